/**
 * The station console's protocol form (progressive enhancement): each control relation is checked as
 * the figures are typed, and "Sign and submit" signs the protocol in this browser with the commission's
 * key (generated here and downloaded, or loaded from its file) before the form is sent. The server
 * checks everything again; without this script the form sends the typed figures for the server to
 * check (nothing unsigned is stored).
 */
import { checkRelations, newKeyFile, publicKeyOf, readKeyFile, signProtocol, signingTime } from './protocol.js';

const data = JSON.parse(document.getElementById('console-data').textContent);
const t = (key, values = {}) => data.messages[key].replace(/%\((\w+)\)s/g, (_, k) => String(values[k] ?? ''));
const $ = (id) => document.getElementById(id);
let secretKey = null;

function say(text) {
  $('protocol-status').textContent = text;
}

function integer(input) {
  const raw = input.value.trim();
  return /^-?\d+$/.test(raw) ? Number(raw) : null;
}

function figures() {
  const f = { station: data.station_id, votes: {} };
  for (const input of document.querySelectorAll('[data-figure]')) f[input.dataset.figure] = integer(input);
  for (const input of document.querySelectorAll('[data-option]')) f.votes[input.dataset.option] = integer(input);
  return f;
}

function showRelations() {
  const results = checkRelations(figures(), data.options, { registered: data.registered, checked_in: data.checked_in });
  for (const r of results) {
    const item = document.querySelector(`[data-relation="${CSS.escape(r.name)}"]`);
    if (!item) continue;
    item.dataset.state = r.ok === null ? 'empty' : r.ok ? 'holds' : 'fails';
    item.querySelector('.verdict').textContent = r.ok === null ? t('empty') : r.ok ? t('holds') : t('fails', { detail: r.detail });
  }
  return results.filter((r) => r.ok === false);
}

function useKey(secret, message) {
  secretKey = secret;
  const pub = publicKeyOf(secret);
  $('key-public').textContent = pub;
  let line = message(pub);
  if (data.registered_key && data.registered_key !== pub) line += ' ' + t('key_mismatch', { key: data.registered_key });
  $('key-status').textContent = line;
}

function generateKey() {
  const file = newKeyFile(data.election_id, data.station_id);
  const name = `protocol-key-${data.election_id}-${data.station_id}.json`;
  const url = URL.createObjectURL(new Blob([JSON.stringify(file, null, 1) + '\n'], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  useKey(file.secret_key, (key) => t('key_generated', { file: name, key }));
}

async function loadKey(event) {
  const file = event.target.files[0];
  if (!file) return;
  try {
    const secret = readKeyFile(await file.text(), data.election_id, data.station_id);
    useKey(secret, (key) => t('key_loaded', { key }));
  } catch (exc) {
    secretKey = null;
    $('key-status').textContent = t('key_bad', { detail: exc.message });
  }
}

function submit(event) {
  event.preventDefault();
  const broken = showRelations();
  if (broken.length) {
    say(t('relations_fail', { count: broken.length }));
    document.querySelector('[data-state="fails"]')?.scrollIntoView({ block: 'center' });
    return;
  }
  if (!secretKey) {
    say(t('no_key'));
    $('key-file').focus();
    return;
  }
  const reason = $('p-reason') ? $('p-reason').value.trim() : '';
  if (data.version > 1 && !reason) {
    say(t('reason_needed'));
    $('p-reason').focus();
    return;
  }
  say(t('signing'));
  const signed = signProtocol(secretKey, {
    electionId: data.election_id,
    version: data.version,
    supersedes: data.supersedes,
    reason,
    signedAt: signingTime(),
    figures: figures(),
  });
  $('p-signed').value = JSON.stringify(signed);
  event.target.submit();
}

const form = $('protocol-form');
if (form) {
  form.addEventListener('input', showRelations);
  form.addEventListener('submit', submit);
  $('key-generate').addEventListener('click', generateKey);
  $('key-file').addEventListener('change', loadKey);
  for (const el of document.querySelectorAll('.needs-js')) el.hidden = false;
  showRelations();
}
