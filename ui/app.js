// UI entry: renders the shell and the accounts list from the backend.
import * as api from "./api.js";

const $ = (id) => document.getElementById(id);

function renderAccounts(accounts) {
  const list = $("accounts");
  list.replaceChildren();
  $("empty").hidden = accounts.length > 0;
  for (const account of accounts) {
    const item = document.createElement("li");
    item.className = "account";
    item.textContent = account.name;
    list.append(item);
  }
}

async function start() {
  try {
    const info = await api.appInfo();
    $("version").textContent = `v${info.version}`;
    renderAccounts(await api.listAccounts());
  } catch (err) {
    $("empty").hidden = false;
    $("empty").textContent = String(err.message || err);
  }
  document.body.dataset.ready = "true";
}

start();
