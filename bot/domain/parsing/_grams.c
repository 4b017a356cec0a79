/* The parser model's hot path in C (optional: model.py answers the same in numpy without it).

   GramTable: the vocabulary's character 1-3-grams by their integer keys (model.py _gram_keys), in an
   open-addressing table built once at Model load. table.rows(text, extra) prepares the text as model.py _marked
   does, looks up every n-gram of it and returns the distinct rows in the order they first occur, then those of
   `extra` (the other features' rows, None for a feature outside the vocabulary).

   Weights: the model's matrix (float32, C order, the bias as its last row). weights.sum(rows) is the rows summed
   in float32 one after the other, then the bias; weights.heaviest(rows, column, count, floor) the rows whose
   weight in `column` is above `floor`, heaviest first (equals in the order given), at most `count` of them.

   No Python object is kept but the matrix's buffer; every index from Python is checked; any str is read
   (NUL, lone surrogates, the last plane) by code point. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define TEXT_CHARS 300                  /* model.py _TEXT_CHARS */
#define MARKED_MAX (TEXT_CHARS + 2)     /* ^ text $ */
#define GRAMS_MAX (3 * MARKED_MAX)
#define MAX_HEAVIEST 64

/* ------------------------------------------------------------------ GramTable */

typedef struct {
    int64_t key;   /* 0: empty (no n-gram's key is 0) */
    Py_ssize_t row;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    uint64_t mask;
    int shift;
    Py_ssize_t nrows;
    uint32_t *seen;  /* seen[row] == stamp: the row is already in this call's answer */
    uint32_t stamp;
} GramTable;

static inline uint64_t
slot_of(const GramTable *t, int64_t key)
{
    return ((uint64_t)key * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift;
}

static int
table_put(GramTable *t, int64_t key, Py_ssize_t row)
{
    uint64_t i = slot_of(t, key);
    for (;;) {
        Slot *s = &t->slots[i];
        if (s->key == 0 || s->key == key) {  /* a key given twice keeps the last row, as a dict would */
            s->key = key;
            s->row = row;
            return 0;
        }
        i = (i + 1) & t->mask;
    }
}

static inline Py_ssize_t
table_get(const GramTable *t, int64_t key)
{
    uint64_t i = slot_of(t, key);
    for (;;) {
        const Slot *s = &t->slots[i];
        if (s->key == key)
            return s->row;
        if (s->key == 0)
            return -1;
        i = (i + 1) & t->mask;
    }
}

static void
GramTable_dealloc(GramTable *self)
{
    PyMem_Free(self->slots);
    PyMem_Free(self->seen);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
GramTable_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"keys", "rows", "nrows", NULL};
    PyObject *keys_obj, *rows_obj;
    Py_ssize_t nrows;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOn:GramTable", names, &keys_obj, &rows_obj, &nrows))
        return NULL;
    if (nrows < 0 || nrows > (Py_ssize_t)(PY_SSIZE_T_MAX / sizeof(uint32_t))) {
        PyErr_SetString(PyExc_ValueError, "nrows out of range");
        return NULL;
    }
    PyObject *keys = PySequence_Fast(keys_obj, "keys must be a sequence");
    if (keys == NULL)
        return NULL;
    PyObject *rows = PySequence_Fast(rows_obj, "rows must be a sequence");
    if (rows == NULL) {
        Py_DECREF(keys);
        return NULL;
    }
    GramTable *self = NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(keys);
    if (n != PySequence_Fast_GET_SIZE(rows)) {
        PyErr_SetString(PyExc_ValueError, "keys and rows differ in length");
        goto fail;
    }
    if (n > (PY_SSIZE_T_MAX >> 8)) {
        PyErr_SetString(PyExc_ValueError, "too many keys");
        goto fail;
    }
    self = (GramTable *)type->tp_alloc(type, 0);
    if (self == NULL)
        goto fail;
    int bits = 4;
    while (((uint64_t)1 << bits) < (uint64_t)n * 2)  /* at most half full */
        bits++;
    self->mask = ((uint64_t)1 << bits) - 1;
    self->shift = 64 - bits;
    self->nrows = nrows;
    self->stamp = 0;
    self->slots = PyMem_Calloc((size_t)self->mask + 1, sizeof(Slot));
    self->seen = PyMem_Calloc(nrows ? (size_t)nrows : 1, sizeof(uint32_t));
    if (self->slots == NULL || self->seen == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    PyObject **key_items = PySequence_Fast_ITEMS(keys), **row_items = PySequence_Fast_ITEMS(rows);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyLong_Check(key_items[i]) || !PyLong_Check(row_items[i])) {  /* no __index__: no Python code runs */
            PyErr_SetString(PyExc_TypeError, "keys and rows must be ints");
            goto fail;
        }
        long long key = PyLong_AsLongLong(key_items[i]);
        if (key == -1 && PyErr_Occurred())
            goto fail;
        Py_ssize_t row = PyLong_AsSsize_t(row_items[i]);
        if (row == -1 && PyErr_Occurred())
            goto fail;
        if (key <= 0) {
            PyErr_SetString(PyExc_ValueError, "an n-gram's key is positive");
            goto fail;
        }
        if (row < 0 || row >= nrows) {
            PyErr_SetString(PyExc_IndexError, "row out of range");
            goto fail;
        }
        table_put(self, (int64_t)key, row);
    }
    Py_DECREF(keys);
    Py_DECREF(rows);
    return (PyObject *)self;
fail:
    Py_DECREF(keys);
    Py_DECREF(rows);
    Py_XDECREF(self);
    return NULL;
}

/* model.py _marked: text[:300], decimal digits to '0', runs of whitespace to one space, stripped, between ^ and $
   (re's \d and \s on str are Py_UNICODE_ISDECIMAL and Py_UNICODE_ISSPACE, as is str.strip()). */
static Py_ssize_t
marked(PyObject *text, Py_UCS4 *out)
{
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (len > TEXT_CHARS)
        len = TEXT_CHARS;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t m = 0;
    int space = 0;
    out[m++] = '^';
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (Py_UNICODE_ISSPACE(ch)) {
            space = m > 1;  /* none before the first character */
            continue;
        }
        if (Py_UNICODE_ISDECIMAL(ch))
            ch = '0';
        if (space) {  /* a space and a character from two characters of input: m stays within MARKED_MAX */
            out[m++] = ' ';
            space = 0;
        }
        out[m++] = ch;
    }
    out[m++] = '$';  /* a space left pending at the end is stripped */
    return m;
}

static inline int
take(GramTable *self, Py_ssize_t row, Py_ssize_t *found, Py_ssize_t *count)
{
    if (self->seen[row] == self->stamp)
        return 0;
    self->seen[row] = self->stamp;
    found[(*count)++] = row;
    return 1;
}

static PyObject *
GramTable_rows(GramTable *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "rows(text, extra) takes two arguments");
        return NULL;
    }
    PyObject *text = args[0];
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    PyObject *extra = PySequence_Fast(args[1], "extra must be a sequence");
    if (extra == NULL)
        return NULL;
    Py_ssize_t nextra = PySequence_Fast_GET_SIZE(extra);
    Py_ssize_t *found = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(GRAMS_MAX + nextra));
    if (found == NULL) {
        Py_DECREF(extra);
        return PyErr_NoMemory();
    }
    if (++self->stamp == 0) {  /* wrapped: forget every stamp */
        memset(self->seen, 0, sizeof(uint32_t) * (size_t)(self->nrows ? self->nrows : 1));
        self->stamp = 1;
    }
    Py_UCS4 t[MARKED_MAX];
    Py_ssize_t m = marked(text, t), count = 0, row;
    int64_t c[MARKED_MAX];
    for (Py_ssize_t i = 0; i < m; i++)  /* each character as its code point + 1 (never 0, 21 bits) */
        c[i] = (int64_t)t[i] + 1;
    for (Py_ssize_t i = 0; i < m; i++)
        if ((row = table_get(self, c[i])) >= 0)
            take(self, row, found, &count);
    for (Py_ssize_t i = 0; i + 1 < m; i++)
        if ((row = table_get(self, (c[i] << 21) | c[i + 1])) >= 0)
            take(self, row, found, &count);
    for (Py_ssize_t i = 0; i + 2 < m; i++)
        if ((row = table_get(self, (c[i] << 42) | (c[i + 1] << 21) | c[i + 2])) >= 0)
            take(self, row, found, &count);
    PyObject **items = PySequence_Fast_ITEMS(extra);
    for (Py_ssize_t i = 0; i < nextra; i++) {
        if (items[i] == Py_None)
            continue;
        if (!PyLong_Check(items[i])) {  /* no __index__: no Python code can change the list under us */
            PyErr_SetString(PyExc_TypeError, "extra must hold ints or None");
            goto fail;
        }
        row = PyLong_AsSsize_t(items[i]);
        if (row == -1 && PyErr_Occurred())
            goto fail;
        if (row < 0 || row >= self->nrows) {
            PyErr_SetString(PyExc_IndexError, "row out of range");
            goto fail;
        }
        take(self, row, found, &count);
    }
    PyObject *out = PyList_New(count);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *v = PyLong_FromSsize_t(found[i]);
        if (v == NULL) {
            Py_DECREF(out);
            goto fail;
        }
        PyList_SET_ITEM(out, i, v);
    }
    PyMem_Free(found);
    Py_DECREF(extra);
    return out;
fail:
    PyMem_Free(found);
    Py_DECREF(extra);
    return NULL;
}

static PyMethodDef GramTable_methods[] = {
    {"rows", (PyCFunction)(void (*)(void))GramTable_rows, METH_FASTCALL,
     "rows(text, extra) -> the distinct rows of the text's n-grams, then of extra, in first-occurrence order"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject GramTableType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bot.domain.parsing._grams.GramTable",
    .tp_basicsize = sizeof(GramTable),
    .tp_dealloc = (destructor)GramTable_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "GramTable(keys, rows, nrows): n-gram keys (model.py _gram_keys) to vocabulary rows",
    .tp_methods = GramTable_methods,
    .tp_new = GramTable_new,
};

/* ------------------------------------------------------------------ Weights */

typedef struct {
    PyObject_HEAD
    Py_buffer view;
    int held;
    Py_ssize_t nrows;  /* including the bias row */
    Py_ssize_t ncols;
} Weights;

static void
Weights_dealloc(Weights *self)
{
    if (self->held)
        PyBuffer_Release(&self->view);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Weights_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"matrix", NULL};
    PyObject *matrix;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O:Weights", names, &matrix))
        return NULL;
    Weights *self = (Weights *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (PyObject_GetBuffer(matrix, &self->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->held = 1;
    const char *format = self->view.format ? self->view.format : "B";
    if (self->view.ndim != 2 || self->view.itemsize != (Py_ssize_t)sizeof(float) || strcmp(format, "f") != 0 ||
        self->view.shape[0] < 1 || self->view.shape[1] < 1) {
        PyErr_SetString(PyExc_TypeError, "matrix must be a 2-D C-contiguous float32 array with at least one row");
        Py_DECREF(self);
        return NULL;
    }
    self->nrows = self->view.shape[0];
    self->ncols = self->view.shape[1];
    return (PyObject *)self;
}

static inline const float *
row_at(const Weights *self, Py_ssize_t r)
{
    return (const float *)self->view.buf + r * self->ncols;
}

/* the rows of a sequence as indices below the bias row, checked; NULL with an exception set otherwise */
static Py_ssize_t *
indices(const Weights *self, PyObject *seq, Py_ssize_t *n)
{
    *n = PySequence_Fast_GET_SIZE(seq);
    Py_ssize_t *idx = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(*n ? *n : 1));
    if (idx == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < *n; i++) {
        if (!PyLong_Check(items[i])) {  /* no __index__: no Python code can change the list under us */
            PyErr_SetString(PyExc_TypeError, "rows must be ints");
            PyMem_Free(idx);
            return NULL;
        }
        Py_ssize_t r = PyLong_AsSsize_t(items[i]);
        if (r == -1 && PyErr_Occurred()) {
            PyMem_Free(idx);
            return NULL;
        }
        if (r < 0 || r >= self->nrows - 1) {
            PyErr_SetString(PyExc_IndexError, "row out of range");
            PyMem_Free(idx);
            return NULL;
        }
        idx[i] = r;
    }
    return idx;
}

static PyObject *
Weights_sum(Weights *self, PyObject *rows_obj)
{
    PyObject *rows = PySequence_Fast(rows_obj, "rows must be a sequence");
    if (rows == NULL)
        return NULL;
    Py_ssize_t n;
    Py_ssize_t *idx = indices(self, rows, &n);
    Py_DECREF(rows);
    if (idx == NULL)
        return NULL;
    Py_ssize_t k = self->ncols;
    float *acc = PyMem_Malloc(sizeof(float) * (size_t)k);
    if (acc == NULL) {
        PyMem_Free(idx);
        return PyErr_NoMemory();
    }
    /* as numpy's add.reduce over axis 0 of the rows then the bias: the first row, then each one added in turn */
    const float *bias = row_at(self, self->nrows - 1);
    memcpy(acc, n ? row_at(self, idx[0]) : bias, sizeof(float) * (size_t)k);
    for (Py_ssize_t i = 1; i < n; i++) {
        const float *w = row_at(self, idx[i]);
        for (Py_ssize_t j = 0; j < k; j++)
            acc[j] += w[j];
    }
    if (n)
        for (Py_ssize_t j = 0; j < k; j++)
            acc[j] += bias[j];
    PyMem_Free(idx);
    PyObject *out = PyList_New(k);
    if (out == NULL) {
        PyMem_Free(acc);
        return NULL;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *v = PyFloat_FromDouble((double)acc[j]);
        if (v == NULL) {
            PyMem_Free(acc);
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, j, v);
    }
    PyMem_Free(acc);
    return out;
}

static PyObject *
Weights_heaviest(Weights *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "heaviest(rows, column, count, floor) takes four arguments");
        return NULL;
    }
    Py_ssize_t column = PyLong_AsSsize_t(args[1]);
    if (column == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t want = PyLong_AsSsize_t(args[2]);
    if (want == -1 && PyErr_Occurred())
        return NULL;
    double floor_d = PyFloat_AsDouble(args[3]);
    if (floor_d == -1.0 && PyErr_Occurred())
        return NULL;
    if (column < 0 || column >= self->ncols) {
        PyErr_SetString(PyExc_IndexError, "column out of range");
        return NULL;
    }
    if (want < 0 || want > MAX_HEAVIEST) {
        PyErr_SetString(PyExc_ValueError, "count out of range");
        return NULL;
    }
    PyObject *rows = PySequence_Fast(args[0], "rows must be a sequence");
    if (rows == NULL)
        return NULL;
    Py_ssize_t n;
    Py_ssize_t *idx = indices(self, rows, &n);
    Py_DECREF(rows);
    if (idx == NULL)
        return NULL;
    const float floor = (float)floor_d;  /* a float32 comparison, as numpy's column > 0.3 */
    Py_ssize_t best[MAX_HEAVIEST];
    float weight[MAX_HEAVIEST];
    Py_ssize_t have = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        float w = row_at(self, idx[i])[column];
        if (!(w > floor))
            continue;
        Py_ssize_t at = have;  /* after every one at least as heavy: equals keep the order given */
        while (at > 0 && weight[at - 1] < w)
            at--;
        if (at >= want)
            continue;
        Py_ssize_t last = have < want ? have : want - 1;
        for (Py_ssize_t j = last; j > at; j--) {
            best[j] = best[j - 1];
            weight[j] = weight[j - 1];
        }
        best[at] = idx[i];
        weight[at] = w;
        if (have < want)
            have++;
    }
    PyMem_Free(idx);
    PyObject *out = PyList_New(have);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t j = 0; j < have; j++) {
        PyObject *v = PyLong_FromSsize_t(best[j]);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, j, v);
    }
    return out;
}

static PyMethodDef Weights_methods[] = {
    {"sum", (PyCFunction)Weights_sum, METH_O, "sum(rows) -> the rows and then the bias row added in float32"},
    {"heaviest", (PyCFunction)(void (*)(void))Weights_heaviest, METH_FASTCALL,
     "heaviest(rows, column, count, floor) -> at most count rows above floor in column, heaviest first"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WeightsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bot.domain.parsing._grams.Weights",
    .tp_basicsize = sizeof(Weights),
    .tp_dealloc = (destructor)Weights_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Weights(matrix): a float32 matrix whose last row is the bias",
    .tp_methods = Weights_methods,
    .tp_new = Weights_new,
};

/* ------------------------------------------------------------------ module */

static struct PyModuleDef grams_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bot.domain.parsing._grams",
    .m_doc = "The parser model's n-gram lookup and row sums (optional; model.py has the same in numpy).",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__grams(void)
{
    if (PyType_Ready(&GramTableType) < 0 || PyType_Ready(&WeightsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&grams_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&GramTableType);
    if (PyModule_AddObject(m, "GramTable", (PyObject *)&GramTableType) < 0) {
        Py_DECREF(&GramTableType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&WeightsType);
    if (PyModule_AddObject(m, "Weights", (PyObject *)&WeightsType) < 0) {
        Py_DECREF(&WeightsType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
