/**
 * The booth page (templates/booth.html): sign in, choose, review, encrypt in this browser, then cast
 * or challenge. Remote voters (mode "remote") and the polling-station kiosk (mode "kiosk").
 *
 * What leaves the browser: the credential as a bearer token, the encrypted ballot (cast), and the
 * opening of a ballot the voter challenges. The choice itself is only in memory; sessionStorage keeps
 * the credential (and, on a kiosk, the commission's token and its device) so that a reload resumes.
 *
 * The device chain never runs ahead of the server: before every encryption the page reads the chain
 * head (last tracking code and ballot count) from the public device list, so a refused ballot, a
 * reload or a crash costs nothing. When another ballot reached the chain first (409 "does not
 * chain": the remote channel is shared by a station's remote voters), the page re-reads the head and
 * re-encrypts the same choice; the voter then decides again on the new tracking code (a cast is
 * never made on a ballot the voter has not seen), while a challenge is retried at once.
 */
import {
  encryptBallot,
  openChallengedBallot,
  openingCode,
  prepareElection,
  remoteDeviceId,
  withoutRevoteTag,
} from './index.js';

const data = JSON.parse(document.getElementById('booth-data').textContent);
const M = data.messages;
const EID = encodeURIComponent(data.election_id);
const STORE = `saylau.booth.${data.mode}.${data.election_id}`;
const MAX_RETRIES = 3;

/** A message in the page's language, `%(name)s` filled in. */
function t(key, values = {}) {
  return M[key].replace(/%\((\w+)\)s/g, (_, k) => String(values[k] ?? ''));
}

// --- session: what survives a reload (never the choice) -------------------------------------------

function loadSession() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || '{}');
  } catch {
    return {};
  }
}
let session = loadSession();
function saveSession() {
  sessionStorage.setItem(STORE, JSON.stringify(session));
}

/** The choice and the encrypted ballot awaiting cast or challenge: memory only. */
let pending = null;

// --- screen ------------------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const statusBox = $('booth-status');

function say(text) {
  statusBox.textContent = text;
}

function show(step, message) {
  for (const s of document.querySelectorAll('section.step[data-step]')) s.hidden = s.dataset.step !== step;
  const heading = document.querySelector(`section[data-step="${step}"] h2`);
  if (message !== undefined) say(message);
  heading.focus();
  document.body.dataset.step = step;
}

function busy(on) {
  for (const b of document.querySelectorAll('main button')) b.disabled = on;
  document.body.toggleAttribute('aria-busy', on);
}

// --- API ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, error, detail) {
    super(detail);
    this.status = status;
    this.error = error;
  }
}

async function api(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(data.api + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit',
    });
  } catch {
    throw new ApiError(0, 'network', t('network'));
  }
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok) throw new ApiError(response.status, json?.error, json?.detail ?? response.statusText);
  return json;
}

/** Another ballot took this chain position first: "does not chain", or the positional id is taken. */
const chainMoved = (exc) =>
  exc instanceof ApiError && exc.status === 409 && /does not chain|already used by another ballot/.test(exc.message);

/** The device's chain head from the public device list (its opening code before its first ballot). */
async function chainHead() {
  const station = encodeURIComponent(session.stationId);
  const list = await api('GET', `/elections/${EID}/stations/${station}/devices`);
  const d = list.find((x) => x.device_id === session.deviceId);
  if (!d) return { lastCode: openingCode(session.deviceId, data.election.base_hash), count: 0 };
  return { lastCode: d.last_code, count: d.ballot_count };
}

function styleFor(stationId) {
  const region = data.station_regions[stationId];
  const s = data.styles.find((x) => x.region_ids.length === 0 || x.region_ids.includes(region));
  return { style_id: s.style_id, contest_ids: s.contest_ids };
}

// --- sign in -----------------------------------------------------------------------------------------

async function signInRemote(event) {
  event.preventDefault();
  const credential = $('credential').value.trim();
  const tag = $('revote-tag').value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(tag)) {
    say(t('bad_revote_tag'));
    $('revote-tag').focus();
    return;
  }
  busy(true);
  say(t('signing_in'));
  try {
    const me = await api('GET', '/me', { token: credential });
    if (me.role !== 'voter' || me.election_id !== data.election_id) throw new ApiError(403, 'AccessDenied', me.role);
    session = { credential, revoteTag: tag, stationId: me.station_id, deviceId: remoteDeviceId(me.station_id) };
    saveSession();
    $('signin-form').reset();
    startChoosing(t('signed_in'));
  } catch (exc) {
    say(t('bad_credential', { detail: exc.message }));
  } finally {
    busy(false);
  }
}

async function signInCommission(event) {
  event.preventDefault();
  busy(true);
  say(t('kiosk_signing_in'));
  try {
    const login = await api('POST', '/auth/login', { body: { username: $('c-user').value, password: $('c-pass').value } });
    const me = await api('GET', '/me', { token: login.token });
    if (me.role !== 'station' || me.election_id !== data.election_id) throw new ApiError(403, 'AccessDenied', t('kiosk_not_station'));
    const deviceId = $('c-device').value.trim();
    const station = encodeURIComponent(me.station_id);
    const list = await api('GET', `/elections/${EID}/stations/${station}/devices`);
    if (!list.some((d) => d.device_id === deviceId)) {
      await api('POST', `/elections/${EID}/stations/${station}/devices`, { token: login.token, body: { device_id: deviceId } });
    }
    session = { stationToken: login.token, stationId: me.station_id, deviceId };
    saveSession();
    $('commission-form').reset();
    await showNextVoter(t('kiosk_signed_in', { station: me.station_id }));
  } catch (exc) {
    say(t('device_failed', { detail: exc.message }));
  } finally {
    busy(false);
  }
}

async function showNextVoter(message) {
  let line = '';
  try {
    const head = await chainHead();
    line = t('device_ready', { device: session.deviceId, count: head.count });
  } catch (exc) {
    line = t('device_failed', { detail: exc.message });
  }
  $('kiosk-device').textContent = line;
  show('next', message ? `${message} ${line}` : line);
}

async function checkInVoter(event) {
  event.preventDefault();
  busy(true);
  say(t('checking_in'));
  try {
    const voterId = $('v-voter').value.trim();
    const station = encodeURIComponent(session.stationId);
    const out = await api('POST', `/elections/${EID}/stations/${station}/checkin`, { token: session.stationToken, body: { voter_id: voterId } });
    session.credential = out.credential;
    saveSession();
    $('checkin-form').reset();
    startChoosing(t('voter_started'));
  } catch (exc) {
    say(t('checkin_failed', { detail: exc.message }));
  } finally {
    busy(false);
  }
}

async function handOffVoter(event) {
  // a voter the commission checked in at its console (staff console): the kiosk takes their credential
  event.preventDefault();
  busy(true);
  say(t('checking_in'));
  try {
    const credential = $('v-credential').value.trim();
    const me = await api('GET', '/me', { token: credential });
    if (me.role !== 'voter' || me.election_id !== data.election_id || me.station_id !== session.stationId) {
      throw new ApiError(403, 'AccessDenied', t('handoff_other'));
    }
    session.credential = credential;
    saveSession();
    $('handoff-form').reset();
    startChoosing(t('voter_started'));
  } catch (exc) {
    say(t('checkin_failed', { detail: exc.message }));
  } finally {
    busy(false);
  }
}

function stopKiosk() {
  session = {};
  sessionStorage.removeItem(STORE);
  show('commission', '');
}

// --- choose, review ----------------------------------------------------------------------------------

function startChoosing(message) {
  pending = null;
  const style = styleFor(session.stationId);
  for (const fs of document.querySelectorAll('fieldset.contest')) {
    fs.hidden = !style.contest_ids.includes(fs.dataset.contest);
  }
  $('choose-form').reset();
  show('choose', message);
}

function readChoices() {
  const style = styleFor(session.stationId);
  const choices = {};
  for (const cid of style.contest_ids) {
    const fs = document.querySelector(`fieldset.contest[data-contest="${CSS.escape(cid)}"]`);
    const picked = [...fs.querySelectorAll('input:checked')].map((i) => i.value);
    const n = Number(fs.dataset.votes);
    if (picked.length !== n) {
      say(n === 1 ? t('choose_first') : t('choose_n', { n, contest: fs.querySelector('legend').textContent }));
      fs.querySelector('input').focus();
      return null;
    }
    choices[cid] = picked;
  }
  return choices;
}

function nameOf(contestId, selectionId) {
  const c = data.contests.find((x) => x.contest_id === contestId);
  const s = c.selections.find((x) => x.selection_id === selectionId);
  return { contest: c.name, option: s.name };
}

function fillChoiceList(list, choices) {
  list.replaceChildren();
  for (const [cid, picked] of Object.entries(choices)) {
    const dt = document.createElement('dt');
    dt.textContent = data.contests.find((x) => x.contest_id === cid).name;
    const dd = document.createElement('dd');
    dd.textContent = picked.map((s) => nameOf(cid, s).option).join(', ');
    list.append(dt, dd);
  }
}

function review(event) {
  event.preventDefault();
  const choices = readChoices();
  if (!choices) return;
  pending = { choices };
  fillChoiceList($('review-list'), choices);
  show('review', '');
}

/** Drop the choice from memory and from the page (the review list, the marked form). */
function forgetChoice() {
  pending = null;
  $('review-list').replaceChildren();
  $('encrypted-code').textContent = '';
  $('choose-form').reset();
}

// --- encrypt, cast, challenge ------------------------------------------------------------------------

async function encryptPending() {
  const head = await chainHead();
  const started = performance.now();
  const { ballot, secret } = encryptBallot({
    election: data.election,
    style: styleFor(session.stationId),
    choices: pending.choices,
    ballotId: `${session.deviceId}-${String(head.count).padStart(6, '0')}`,
    previousCode: head.lastCode,
    revoteTag: data.mode === 'remote' ? session.revoteTag : undefined,
  });
  const ms = performance.now() - started;
  pending = { choices: pending.choices, ballot, secret, ms };
  document.body.dataset.encryptMs = ms.toFixed(1);
  $('encrypted-code').textContent = ballot.code;
  return ms;
}

async function encrypt() {
  busy(true);
  say(t('encrypting'));
  try {
    const ms = await encryptPending();
    show('encrypted', t('encrypted', { ms: Math.round(ms) }));
  } catch (exc) {
    say(exc instanceof ApiError ? t('refused', { detail: exc.message }) : t('encrypt_failed', { detail: exc.message }));
  } finally {
    busy(false);
  }
}

async function cast() {
  busy(true);
  say(t('casting'));
  try {
    const receipt = await api('POST', `/elections/${EID}/ballots`, {
      token: session.credential, body: { ballot: pending.ballot, device_id: session.deviceId },
    });
    forgetChoice(); // the nonces and the choice are forgotten: nothing left shows how this voter voted
    $('cast-code').textContent = receipt.code;
    const lookup = `${data.api}/elections/${EID}/board/codes/${receipt.code}`;
    $('cast-lookup').href = lookup;
    if (data.mode === 'kiosk') {
      delete session.credential; // an in-person credential casts once
      saveSession();
    }
    show('cast', t('cast_done'));
  } catch (exc) {
    if (chainMoved(exc)) {
      await reEncryptAfterMove();
    } else {
      say(t('refused', { detail: exc.message }));
    }
  } finally {
    busy(false);
  }
}

/** The chain moved under a pending cast: re-encrypt the same choice; the voter decides again. */
async function reEncryptAfterMove() {
  try {
    await encryptPending();
    show('encrypted', t('chain_moved'));
  } catch (exc) {
    say(t('refused', { detail: exc.message }));
  }
}

async function challenge() {
  busy(true);
  say(t('challenging'));
  try {
    for (let attempt = 0; ; attempt += 1) {
      // a challenged ballot carries no revote tag; its ciphertexts are the ones the voter was shown
      const shown = pending.ballot;
      const ballot = shown.revote_tag ? withoutRevoteTag(shown) : shown;
      const opening = openChallengedBallot(data.election, ballot, pending.secret);
      try {
        await api('POST', `/elections/${EID}/challenges`, {
          token: session.credential, body: { challenged: opening, device_id: session.deviceId },
        });
      } catch (exc) {
        if (chainMoved(exc) && attempt < MAX_RETRIES) {
          await encryptPending();
          continue;
        }
        throw exc;
      }
      showOpening(opening, shown.code);
      return;
    }
  } catch (exc) {
    say(chainMoved(exc) ? t('chain_busy') : t('refused', { detail: exc.message }));
  } finally {
    busy(false);
  }
}

function showOpening(opening, shownCode) {
  pending = null;
  const code = opening.ballot.code;
  $('challenged-code').textContent = shownCode === code ? code : `${shownCode} (${code})`;
  fillChoiceList($('challenged-list'), opening.choices);
  $('challenged-lookup').href = `${data.api}/elections/${EID}/board/codes/${code}`;
  const blob = new Blob([JSON.stringify(opening, null, 1)], { type: 'application/json' });
  const link = $('challenged-download');
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(blob);
  show('challenged', t('challenged'));
}

// --- wiring ------------------------------------------------------------------------------------------

function start() {
  if (!data.open) return;
  prepareElection(data.election); // window tables now, not when the voter presses "encrypt"
  $('choose-form').addEventListener('submit', review);
  $('back').addEventListener('click', () => show('choose', ''));
  $('encrypt').addEventListener('click', encrypt);
  $('cast').addEventListener('click', cast);
  $('challenge').addEventListener('click', challenge);
  $('again').addEventListener('click', () => startChoosing(''));
  if (data.mode === 'remote') {
    $('signin-form').addEventListener('submit', signInRemote);
    $('revote').addEventListener('click', () => startChoosing(''));
    $('signout').addEventListener('click', () => {
      session = {};
      sessionStorage.removeItem(STORE);
      show('signin', '');
    });
    if (session.credential) startChoosing(t('resumed'));
    else show('signin');
  } else {
    $('commission-form').addEventListener('submit', signInCommission);
    $('checkin-form').addEventListener('submit', checkInVoter);
    $('handoff-form').addEventListener('submit', handOffVoter);
    $('kiosk-stop').addEventListener('click', stopKiosk);
    $('done').addEventListener('click', () => showNextVoter(''));
    if (session.stationToken && session.credential) startChoosing(t('resumed'));
    else if (session.stationToken) showNextVoter('');
    else show('commission');
  }
}

start();
