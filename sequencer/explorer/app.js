// The explorer: reads the operator's API and stays live over its WebSocket (no build step).
"use strict";

const $ = (sel) => document.querySelector(sel);
const usdc = (micro) => (micro / 1e6).toLocaleString(undefined, { maximumFractionDigits: 6 });
const short = (hex) => (hex ? hex.slice(0, 10) + "…" : "");
const books = {}; // market -> {seq, bids: Map, asks: Map}
const trades = {}; // market -> [trade, ...] newest first
let selected = null;

async function get(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function cell(row, text, cls) {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function l1Cell(row, step) {
  const td = cell(row, step ? short(step.tx) : "");
  if (step) td.title = `${step.tx} (${step.gas} gas)`;
}

async function refreshBatches() {
  const batches = await get("/v1/batches?limit=30");
  const body = $("#batches tbody");
  body.replaceChildren();
  for (const b of batches) {
    const row = body.insertRow();
    row.dataset.batch = b.number;
    row.dataset.status = b.status;
    cell(row, b.number);
    cell(row, b.status, "status-" + b.status);
    cell(row, b.priority_requests);
    cell(row, b.l2_transactions);
    for (const step of ["commit", "verify", "execute"]) l1Cell(row, b.l1[step]);
    const gas = Object.values(b.l1).reduce((sum, s) => sum + (s ? s.gas : 0), 0);
    cell(row, gas || "");
    cell(row, b.proving_seconds == null ? "" : b.proving_seconds.toFixed(1) + " s");
    row.addEventListener("click", () => showBatch(b.number));
  }
}

async function showBatch(number) {
  selected = number;
  const batch = await get(`/v1/batches/${number}`);
  $("#batch-number").textContent = number;
  const body = $("#operations tbody");
  body.replaceChildren();
  // the slots as proven (claims and pre-executions too), else the requests and transactions
  const slots = batch.slots.length ? batch.slots : batch.operations.map((op, i) => ({ slot: i, ...op }));
  slots.forEach(({ slot, type, ...fields }) => {
    const row = body.insertRow();
    cell(row, slot);
    cell(row, type);
    cell(row, Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("  "));
  });
  $("#batch-detail").hidden = false;
}

async function refreshStatus() {
  const s = await get("/v1/status");
  const l1 = s.l1 ? `L1 committed ${s.l1.committed} · verified ${s.l1.verified} · executed ${s.l1.executed}` : "";
  $("#status").textContent = `${s.preset} · L2 block ${s.l2_block} · mempool ${s.mempool} · ${l1}`;
  $("#desert").textContent = s.desert_mode === null ? "no L1 link"
    : s.desert_mode ? "DESERT MODE: the rollup is frozen; users exit with proofs"
    : "desert mode off: the operator is processing the priority queue";
  const q = await get("/v1/priority-queue");
  const body = $("#queue tbody");
  body.replaceChildren();
  for (const r of q.pending) {
    const row = body.insertRow();
    cell(row, r.id);
    cell(row, `${r.operation.type} (account ${r.operation.account})`);
    cell(row, new Date(r.deadline * 1000).toISOString());
    cell(row, r.overdue ? "overdue" : r.in_sealed_batch ? "in a sealed batch" : "waiting",
      r.overdue ? "overdue" : "");
  }
}

async function refreshAccounts() {
  const accounts = await get("/v1/accounts");
  const body = $("#accounts tbody");
  body.replaceChildren();
  for (const a of accounts) {
    const row = body.insertRow();
    row.dataset.account = a.index;
    cell(row, a.index);
    cell(row, a.owner);
    cell(row, usdc(a.collateral));
    cell(row, a.nonce);
    cell(row, a.open_orders);
  }
}

function drawMarket(market) {
  let box = document.getElementById("market-" + market);
  if (!box) {
    box = document.createElement("div");
    box.id = "market-" + market;
    $("#markets").append(box);
  }
  const book = books[market];
  const asks = [...book.asks].sort((a, b) => a[0] - b[0]).slice(0, 10).reverse();
  const bids = [...book.bids].sort((a, b) => b[0] - a[0]).slice(0, 10);
  const rows = [
    ...asks.map(([p, s]) => `<tr class="ask"><td>ask</td><td>${p}</td><td>${s}</td></tr>`),
    ...bids.map(([p, s]) => `<tr class="bid"><td>bid</td><td>${p}</td><td>${s}</td></tr>`),
  ].join("");
  const fills = (trades[market] || []).slice(0, 10).map((t) =>
    `<tr><td>${t.block}</td><td>${t.price}</td><td>${t.size}</td><td>${t.taker}</td><td>${t.maker}</td></tr>`).join("");
  box.innerHTML = `<h3>Market ${market} <small>(book seq ${book.seq})</small></h3>
    <table class="book"><thead><tr><th></th><th>price</th><th>size</th></tr></thead><tbody>${rows}</tbody></table>
    <table class="book"><thead><tr><th>block</th><th>price</th><th>size</th><th>taker</th><th>maker</th></tr></thead><tbody>${fills}</tbody></table>`;
}

function applyBook(message) {
  const book = books[message.market];
  if (message.type === "snapshot") {
    books[message.market] = { seq: message.seq, bids: new Map(message.bids), asks: new Map(message.asks) };
  } else if (book && message.seq === book.seq + 1) {
    for (const side of ["bids", "asks"]) {
      for (const [price, size] of message[side]) {
        if (size === 0) book[side].delete(price); else book[side].set(price, size);
      }
    }
    book.seq = message.seq;
  } else {
    return resubscribe(message.market); // a gap: start again from a snapshot
  }
  drawMarket(message.market);
}

let socket = null;
function resubscribe(market) {
  socket.send(JSON.stringify({ op: "subscribe", channel: "book", market }));
}

function onMessage(event) {
  const m = JSON.parse(event.data);
  if (m.channel === "book") return applyBook(m);
  if (m.channel === "trades") {
    if (m.type === "snapshot") trades[m.market] = m.trades;
    else (trades[m.market] = trades[m.market] || []).unshift(m);
    if (books[m.market]) drawMarket(m.market);
    return;
  }
  if (m.channel === "batches") {
    refreshBatches();
    refreshStatus();
    if (m.type !== "snapshot" && m.status === "sealed") refreshAccounts();
    if (selected !== null && m.number === selected) showBatch(selected);
  }
}

async function connect(markets) {
  const url = location.origin.replace(/^http/, "ws") + "/v1/ws";
  socket = new WebSocket(url);
  socket.onopen = () => {
    $("#live").textContent = "live";
    $("#live").className = "badge on";
    socket.send(JSON.stringify({ op: "subscribe", channel: "batches" }));
    for (const m of markets) {
      socket.send(JSON.stringify({ op: "subscribe", channel: "book", market: m.index }));
      socket.send(JSON.stringify({ op: "subscribe", channel: "trades", market: m.index }));
    }
  };
  socket.onmessage = onMessage;
  socket.onclose = () => {
    $("#live").textContent = "offline";
    $("#live").className = "badge off";
    setTimeout(() => connect(markets), 2000);
  };
}

async function start() {
  const markets = await get("/v1/markets");
  if (markets.length === 0) $("#markets").textContent = "no markets in this deployment yet";
  await Promise.all([refreshBatches(), refreshStatus(), refreshAccounts()]);
  connect(markets);
}

start();
