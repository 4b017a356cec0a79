// 微格助手 console: refresh notice progress every 10 s (text only, never HTML).
async function refresh() {
  try {
    const res = await fetch("/console/notices/progress", { credentials: "same-origin" });
    if (!res.ok) return;
    const data = await res.json();
    for (const cell of document.querySelectorAll("td.progress")) {
      const p = data[cell.dataset.notice];
      if (p) cell.textContent = p.text;
    }
  } catch (e) { /* next time */ }
}
setInterval(refresh, 10000);
