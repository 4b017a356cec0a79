"use strict";
// 微格助手 simulator page: pick a group, pick who you are, type; bot replies arrive over a WebSocket.
const $ = (id) => document.getElementById(id);
const state = { rooms: {}, current: null, me: null, bot: null, unread: {} };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child); // text nodes: never innerHTML
  return node;
}

function fmtTime(iso) {
  // In the deployment's time zone (as deadlines are), not the browser's: 09:05, or 11-22 09:05 on another day.
  const d = new Date(iso);
  const zone = state.tz || undefined;
  const day = (x) => new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(x);
  const time = new Intl.DateTimeFormat("zh-CN", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
  return day(d) === day(new Date()) ? time : `${day(d).slice(5)} ${time}`;
}

async function api(path, options) {
  const res = await fetch(path, options);
  if (!res.ok) throw new Error(await res.text());
  return res.json();
}

function renderTree(nodes, filter) {
  const tree = $("tree");
  tree.replaceChildren();
  const f = (filter || "").trim();
  const walk = (node, depth) => {
    const rooms = node.rooms.filter((r) => !f || r.topic.includes(f) || node.code.includes(f) || node.name.includes(f));
    const kids = [];
    for (const child of node.children) kids.push(...walk(child, depth + 1));
    if (!rooms.length && !kids.length && f) return [];
    const out = [el("div", { class: "node", style: `--depth:${depth}` },
      el("span", { class: "tier" }, node.tier), el("span", {}, node.name), el("span", { class: "code" }, node.code))];
    for (const room of rooms) {
      state.rooms[room.id] = room;
      const btn = el("button", { class: "room" + (state.current === room.id ? " active" : ""), style: `--depth:${depth}`,
        "data-room": room.id, onclick: () => openRoom(room.id) }, room.topic);
      if (state.unread[room.id]) btn.append(el("span", { class: "badge" }, String(state.unread[room.id])));
      else btn.append(el("span", { class: "count" }, `${room.members}人`));
      out.push(btn);
    }
    return out.concat(kids);
  };
  for (const root of nodes) tree.append(...walk(root, 0));
}

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

function renderText(text, mentions) {
  // Highlight @names (nicknames may contain spaces) without ever treating resident text as HTML.
  const span = el("span");
  const names = (state.roomData ? state.roomData.members.map((m) => m.name) : []).sort((a, b) => b.length - a.length);
  const pattern = names.length ? new RegExp("(@(?:" + names.map(escapeRe).join("|") + "|[^\\s@]+))", "g") : /(@[^\s@]+)/g;
  for (const part of text.split(pattern)) {
    if (part.startsWith("@")) span.append(el("span", { class: "mention" }, part));
    else if (part) span.append(document.createTextNode(part));
  }
  return span;
}

function renderMessage(m) {
  const mine = state.me && m.sender_id === state.me.id && !m.from_bot;
  const initial = (m.sender_name || "?").replace(/^[\d\-\s#号楼室]+/, "").slice(0, 1) || "?";
  const member = state.roomData && state.roomData.members.find((x) => x.id === m.sender_id);
  const name = el("div", { class: "name" }, m.sender_name);
  if (m.from_bot) name.append(el("span", { class: "role" }, "机器人"));
  else if (member && member.role) name.append(el("span", { class: "role" }, member.role));
  return el("div", { class: "msg" + (m.from_bot ? " bot" : "") + (mine ? " mine" : ""), "data-id": m.id },
    el("div", { class: "avatar" }, m.from_bot ? "微" : initial),
    el("div", { class: "body" }, name, el("div", { class: "bubble" }, m.image
      ? el("img", { src: `/charts/${encodeURIComponent(m.image)}`, alt: m.text, class: "chart" })
      : renderText(m.text, m.mentions)),
      el("div", { class: "time", title: state.tz || "" }, fmtTime(m.at))));
}

function renderMembers() {
  const list = $("members");
  list.replaceChildren();
  const who = $("who");
  who.replaceChildren();
  const members = state.roomData ? state.roomData.members : [];
  $("member-count").textContent = members.length ? `(${members.length})` : "";
  for (const m of members) {
    const li = el("li", { class: state.me && state.me.id === m.id ? "me" : "", onclick: () => pickMe(m.id) },
      el("span", {}, m.name), m.role ? el("span", { class: "role" }, m.role) : null);
    list.append(li);
    who.append(el("option", { value: m.id }, m.role ? `${m.name}（${m.role}）` : m.name));
  }
  if (state.me) who.value = state.me.id;
}

function pickMe(id) {
  const m = state.roomData.members.find((x) => x.id === id);
  if (!m) return;
  state.me = m;
  localStorage.setItem("gridbot-sim-me-" + state.current, id);
  renderMembers();
}

function setDrawer(open) {
  // On a phone the group list is a drawer over the chat; on a wide screen it is always there.
  $("app").classList.toggle("drawer-open", open);
  $("drawer-toggle").setAttribute("aria-expanded", String(open));
}

async function openRoom(id) {
  setDrawer(false);
  state.current = id;
  state.unread[id] = 0;
  history.replaceState(null, "", "#room=" + encodeURIComponent(id));
  const data = await api(`/api/sim/rooms/${encodeURIComponent(id)}`);
  state.roomData = data;
  $("room-title").textContent = data.topic;
  $("room-sub").textContent = data.node ? `${data.node.tier} · ${data.node.name} · ${data.node.code}` : "未配置的群";
  const saved = localStorage.getItem("gridbot-sim-me-" + id);
  state.me = data.members.find((m) => m.id === saved) || data.members.find((m) => !m.role) || data.members[0] || null;
  renderMembers();
  const box = $("messages");
  box.replaceChildren(...data.messages.map(renderMessage));
  if (!data.messages.length) box.append(el("div", { class: "empty" }, "这个群还没有消息。选好身份，说点什么吧。"));
  box.scrollTop = box.scrollHeight;
  $("text").disabled = false;
  $("send").disabled = false;
  $("text").focus();
  renderTree(state.tree, $("filter").value);
}

async function send() {
  const text = $("text").value;
  if (!text.trim() || !state.current || !state.me) return;
  $("text").value = "";
  try {
    await api(`/api/sim/rooms/${encodeURIComponent(state.current)}/messages`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender_id: state.me.id, sender_name: state.me.name, text }),
    });
  } catch (err) {
    alert("发送失败：" + err.message);
    $("text").value = text;
  }
}

function connect() {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/sim/live");
  ws.onopen = () => { $("status").classList.add("on"); $("status").title = "已连接"; };
  ws.onclose = () => { $("status").classList.remove("on"); $("status").title = "连接断开，正在重连"; setTimeout(connect, 1500); };
  ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "message") {
      const m = data.message;
      if (m.conversation.kind !== "room") return;
      const roomId = m.conversation.id;
      if (roomId === state.current) {
        const box = $("messages");
        box.querySelector(".empty")?.remove();
        state.roomData.messages.push(m);
        box.append(renderMessage(m));
        box.scrollTop = box.scrollHeight;
      } else {
        state.unread[roomId] = (state.unread[roomId] || 0) + 1;
        renderTree(state.tree, $("filter").value);
      }
    } else if (data.type === "member" && data.room_id === state.current) {
      openRoom(state.current);
    }
  };
}

async function main() {
  const s = await api("/api/sim/state");
  state.tree = s.tree;
  state.bot = s.bot;
  state.tz = s.tz;
  $("deployment").textContent = s.deployment + " · 群聊模拟器";
  document.title = s.deployment + " · 微格助手模拟器";
  renderTree(s.tree, "");
  $("filter").addEventListener("input", (e) => renderTree(state.tree, e.target.value));
  $("who").addEventListener("change", (e) => pickMe(e.target.value));
  $("send").addEventListener("click", send);
  $("drawer-toggle").addEventListener("click", () => setDrawer(!$("app").classList.contains("drawer-open")));
  $("backdrop").addEventListener("click", () => setDrawer(false));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") setDrawer(false); });
  $("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); } });
  $("photo").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (!file || !state.current || !state.me) return;
    const form = new FormData();
    form.append("sender_id", state.me.id);
    form.append("sender_name", state.me.name);
    form.append("image", file);
    try {
      await api(`/api/sim/rooms/${encodeURIComponent(state.current)}/images`, { method: "POST", body: form });
    } catch (err) { alert("图片发送失败：" + err.message); }
    e.target.value = "";
  });
  $("join").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("join-name").value.trim();
    if (!name || !state.current) return;
    await api(`/api/sim/rooms/${encodeURIComponent(state.current)}/members`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
    $("join-name").value = "";
  });
  connect();
  const wanted = decodeURIComponent(location.hash.replace(/^#room=/, ""));
  const first = document.querySelector(".room");
  if (wanted && state.rooms[wanted]) openRoom(wanted);
  else if (first) openRoom(first.getAttribute("data-room"));
}
main().catch((err) => { $("messages").textContent = "加载失败：" + err.message; });
