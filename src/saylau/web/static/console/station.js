/**
 * The station console's protocol form (progressive enhancement): each control relation is checked as
 * the figures are typed, and "Sign and submit" signs the protocol in this browser with the commission's
 * key before the form is sent. The key is kept in the passphrase-protected file `saylau protocol keygen`
 * writes (saylau-secret/1): generated here (the file is downloaded) or opened from that file with its
 * passphrase; neither the key nor the passphrase is sent (their inputs have no name). The server
 * checks everything again; without this script the form sends the typed figures for the server to
 * check (nothing unsigned is stored).
 */
import { checkRelations, keyFilePublic, newKeyFile, publicKeyOf, readKeyFile, signProtocol, signingTime } from './protocol.js';
import { newPassphraseProblem } from './secret_file.js';

const data = JSON.parse(document.getElementById('console-data').textContent);
const t = (key, values = {}) => data.messages[key].replace(/%\((\w+)\)s/g, (_, k) => String(values[k] ?? ''));
const $ = (id) => document.getElementById(id);
let secretKey = null;

function say(text, where = 'protocol-status') {
  $(where).textContent = text;
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

function progress(key) {
  return (fraction) => say(t(key, { progress: `${Math.round(fraction * 100)}%` }), 'key-status');
}

function keyProblem(exc) {
  // a SecretFileError's code → the message in the page's language; anything else is shown as it is
  const messages = {
    'not-secret-file': 'key_not_file', damaged: 'key_damaged', 'wrong-kind': 'key_wrong_kind',
    'wrong-station': 'key_wrong_station', 'wrong-passphrase': 'key_wrong_passphrase',
    'empty-passphrase': 'key_no_passphrase', altered: 'key_altered', 'no-webcrypto': 'key_no_webcrypto',
  };
  const key = messages[exc.code];
  return key ? t(key, { detail: exc.message, kind: exc.found, election: exc.election, station: exc.station }) : exc.message;
}

function useKey(secret, message) {
  secretKey = secret;
  const pub = publicKeyOf(secret);
  $('key-public').textContent = pub;
  let line = message(pub);
  if (data.registered_key && data.registered_key !== pub) line += ' ' + t('key_mismatch', { key: data.registered_key });
  say(line, 'key-status');
}

function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function generateKey() {
  const word = $('key-new-pass').value;
  const problem = newPassphraseProblem(word, $('key-new-pass2').value, data.min_passphrase);
  if (problem) {
    say(t(problem === 'short' ? 'pass_short' : 'pass_differ', { n: data.min_passphrase }), 'key-status');
    $(problem === 'short' ? 'key-new-pass' : 'key-new-pass2').focus();
    return;
  }
  busy(true);
  try {
    const made = await newKeyFile(data.election_id, data.station_id, word, { logN: data.scrypt_log_n, onProgress: progress('key_generating') });
    const name = `protocol-key-${data.election_id}-${data.station_id}.json`;
    download(made.text, name);
    $('key-new-pass').value = '';
    $('key-new-pass2').value = '';
    useKey(made.secretKey, (key) => t('key_generated', { file: name, key }));
  } catch (exc) {
    say(keyProblem(exc), 'key-status');
  } finally {
    busy(false);
  }
}

function chosenFile() {
  return $('key-file').files[0] ?? null;
}

async function showKeyFile() {
  // what the file says it is (readable without the passphrase, not yet authenticated)
  secretKey = null;
  $('key-public').textContent = '–';
  const file = chosenFile();
  if (!file) return;
  try {
    const pub = keyFilePublic(await file.text(), data.election_id, data.station_id);
    say(t('key_chosen', { key: pub.public_key }), 'key-status');
  } catch (exc) {
    say(keyProblem(exc), 'key-status');
  }
}

/** Open the chosen key file with the typed passphrase; true when the key is in memory. */
async function openKey() {
  const file = chosenFile();
  if (!file) {
    say(t('no_key'), 'key-status');
    $('key-file').focus();
    return false;
  }
  if (!$('key-pass').value) {
    say(t('key_no_passphrase'), 'key-status');
    $('key-pass').focus();
    return false;
  }
  busy(true);
  try {
    const secret = await readKeyFile(await file.text(), $('key-pass').value, data.election_id, data.station_id, { onProgress: progress('key_opening') });
    $('key-pass').value = '';
    useKey(secret, (key) => t('key_loaded', { key }));
    return true;
  } catch (exc) {
    secretKey = null;
    say(keyProblem(exc), 'key-status');
    (exc.code === 'wrong-passphrase' ? $('key-pass') : $('key-file')).focus();
    return false;
  } finally {
    busy(false);
  }
}

function busy(on) {
  for (const id of ['key-open', 'key-generate', 'protocol-submit']) $(id).disabled = on;
}

async function submit(event) {
  event.preventDefault();
  const broken = showRelations();
  if (broken.length) {
    say(t('relations_fail', { count: broken.length }));
    document.querySelector('[data-state="fails"]')?.scrollIntoView({ block: 'center' });
    return;
  }
  const reason = $('p-reason') ? $('p-reason').value.trim() : '';
  if (data.version > 1 && !reason) {
    say(t('reason_needed'));
    $('p-reason').focus();
    return;
  }
  if (!secretKey && !(await openKey())) {
    say(t('no_key'));
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
  form.submit();
}

const form = $('protocol-form');
if (form) {
  form.addEventListener('input', showRelations);
  form.addEventListener('submit', submit);
  $('key-generate').addEventListener('click', generateKey);
  $('key-open').addEventListener('click', openKey);
  $('key-file').addEventListener('change', showKeyFile);
  for (const el of document.querySelectorAll('.needs-js')) el.hidden = false;
  showRelations();
}
