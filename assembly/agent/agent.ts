// The agent: owns the memory layout, reads frames, checks authentication,
// answers each request (docs/protocol.md). One instance per module.
import { logLine, clockUs } from "./host";
import { crc32Init } from "./crc32";
import * as cbor from "./cbor";
import { writeEntry, writeUint, writeHead, writeText, writeTextBytes, writeBytes, MAJOR_MAP, MAJOR_ARRAY, MAJOR_BYTES } from "./cbor";
import { txBegin, txByte, txEnd, txTag } from "./tx";
import { chachaBlock, chachaSetKey, chachaSetNonce, chachaXor, KEYSTREAM } from "./chacha20";
import { rxInit, rxByte, frameStart, frameLen, RX_FRAME, RX_CORRUPT, RX_OVERSIZED } from "./rx";
import { TEXT, textLen, textReset, textStr, textU32 } from "./text";
import { hmacSetKey, hmacSha256, hmacSha256With, equalConstantTime, MAX_KEY_BYTES } from "./hmac";
import {
  arenaInit, arenaReset, arenaBudget, arenaUsed, arenaHighWater, fragmentCount, fragmentId, findFragment, removeFragment,
} from "./arena";
import { loadChunk, loadAbort, loadOpen, loadFragment, loadNext, loadDone } from "./load";
import {
  runChunk, runStep, runCancel, runAbort, runComputing, runFrag, runNext, runDone, runSeq, runOutputPtr, runOutputBytes, runComputeUs,
  runDigest, runOpenCounter, runDoneCounter, runDoneRun, STEP_RESULT, STEP_ERROR, STEP_MORE,
} from "./run";
import { profile, profileRate } from "./profile";
import { kernelAbiHash } from "./kernels";
import {
  PROTOCOL_VERSION, PROFILE_OPS, profileOpName, engineName, TAG_BYTES, isAuthenticated,
  T_HELLO, T_PING, T_PROFILE, T_LOAD, T_RUN, T_CANCEL, T_UNLOAD, T_RESET, T_ACK, T_RESULT, T_ERROR,
  K_TYPE, K_SEQ, K_SEALED, K_SESSION, K_COUNTER, K_TAG, K_HELLO_NONCE, K_LOAD_DATA, K_PROFILE_MACS, K_LOAD_FRAG, K_RUN_FRAG, K_CANCEL_FRAG, K_UNLOAD_FRAG,
  K_RUN_RUN, K_RUN_ROUTED,
  R_ERROR_CODE, R_ERROR_TEXT, R_ERROR_FIELDS, R_ERROR_TAG, R_RESULT_TAG, R_HELLO_TAG, R_ACK_FRAG, R_ACK_NEXT, R_ACK_DONE, R_RESULT_FRAG, R_RESULT_DATA, R_RESULT_HIGH_WATER,
  R_RESULT_COMPUTE_US, R_RESULT_SEALED, R_RESULT_RUN, R_RESULT_FIELDS, R_HELLO_FIELDS, R_HELLO_VERSION, R_HELLO_BUDGET, R_HELLO_ENGINE, R_HELLO_ABI,
  R_HELLO_WINDOW, R_HELLO_CLOCK_HZ, R_HELLO_KEYED, R_HELLO_AUTH_FAILURES, R_HELLO_COUNTER, R_HELLO_BAD_FRAMES,
  R_HELLO_USED, R_HELLO_HIGH_WATER, R_HELLO_FRAGMENTS, R_HELLO_OVERHEAD, R_HELLO_MESH, R_HELLO_SESSION, R_PING_CLOCK, R_PROFILE_RATES,
  E_BAD_MESSAGE, E_BAD_VERSION, E_UNKNOWN_TYPE, E_TOO_LARGE, E_NO_MEMORY, E_AUTH, E_REPLAY, E_NO_FRAGMENT, E_BUSY, E_KERNEL,
} from "./protocol.generated";

const MIN_WINDOW: u32 = 64;
const MAX_WINDOW: u32 = 65536;
const DEFAULT_PROFILE_MACS: u32 = 65536;
// Bounds how long a PROFILE keeps the device from reading frames.
const MAX_PROFILE_MACS: u32 = 1 << 22;
const CLOCK_HZ: u32 = 1000000;

let ready = false;
let rxBuffer: usize = 0;
let window: u32 = 0;
let engine: u32 = 0;
let overhead: u32 = 0;
let keyed = false;
// This start's session (docs/protocol.md section 4): the host gives a value
// no earlier start under the same key had, so messages recorded before a
// restart, whose tags cover their session, are refused.
let session: u32 = 0;
let lastCounter: u32 = 0;
let authFailures: u32 = 0;
let badFrames: u32 = 0;
const TAG: usize = memory.data(<i32>TAG_BYTES, 4);
const EXPECTED: usize = memory.data(<i32>TAG_BYTES, 4);
/** Counter of the request being answered (0 when it has none): a keyed device's ERROR tag covers it. */
let replyCounter: u32 = 0;
// What a reply's tag covers after the reply: session, counters, digest (RESULT) or the HELLO nonce.
const MAX_NONCE_BYTES: u32 = 32;
const BIND: usize = memory.data(44, 4);
// Sealing (docs/protocol.md section 4): ChaCha20 under a key derived from the
// device key, nonces (direction, session, counter), so none repeats under a key.
const SEAL_LABEL: usize = memory.data<u8>([0x6d, 0x69, 0x63, 0x72, 0x6f, 0x73, 0x70, 0x6c, 0x69, 0x74, 0x20, 0x63, 0x68, 0x61, 0x63, 0x68, 0x61, 0x32, 0x30]); // "microsplit chacha20"
const SEAL_LABEL_BYTES: usize = 19;
const SEAL_KEY: usize = memory.data(32, 4);
const TO_DEVICE: u32 = 0;
const TO_GATEWAY: u32 = 1;
// Forwarded RUN chunks (docs/protocol.md section 3) are tagged under a route
// key, HMAC-SHA256(key, "microsplit route" | session | run): the gateway gives
// it to the producer's host for one run of this start, so a chunk is good
// for that run's input only.
const ROUTE_LABEL: usize = memory.data<u8>([0x6d, 0x69, 0x63, 0x72, 0x6f, 0x73, 0x70, 0x6c, 0x69, 0x74, 0x20, 0x72, 0x6f, 0x75, 0x74, 0x65]); // "microsplit route"
const ROUTE_LABEL_BYTES: usize = 16;
const ROUTE_IN: usize = memory.data(24, 4);
const ROUTE_KEY: usize = memory.data(32, 4);
/** The RUN chunk that completed the input asked for a sealed RESULT. */
let resultSealed = false;

/**
 * Lays out the `memoryBytes` of linear memory the host gives the agent (its
 * engine bounds every access by them; any size, not only whole pages): from
 * the heap base, receive buffer (W), frame buffer (W), then the arena up to
 * `memoryBytes`. The size comes from the host, never from memory.size(),
 * which counts whole 64 KiB pages a board may not have. 0, or E_BAD_MESSAGE
 * for a window outside 64..65536, or E_NO_MEMORY when the buffers leave no
 * arena.
 */
export function init(memoryBytes: u32, windowBytes: u32, engineCode: u32): u32 {
  if (ready) return E_BAD_MESSAGE;
  if (windowBytes < MIN_WINDOW || windowBytes > MAX_WINDOW) return E_BAD_MESSAGE;
  const heap = (__heap_base + 15) & ~15;
  const frameBuf = heap + windowBytes;
  const arena = (frameBuf + windowBytes + 7) & ~7;
  if (<u64>arena >= <u64>memoryBytes) return E_NO_MEMORY;
  const budget = memoryBytes - <u32>arena;
  crc32Init();
  rxBuffer = heap;
  window = windowBytes;
  engine = engineCode;
  overhead = <u32>arena;
  rxInit(frameBuf, windowBytes);
  arenaInit(arena, budget);
  ready = true;
  textReset();
  textStr("microsplit agent: memory ");
  textU32(memoryBytes);
  textStr(", arena ");
  textU32(budget);
  textStr(", window ");
  textU32(windowBytes);
  textStr(", engine ");
  textStr(engineName(engineCode));
  logLine(TEXT, textLen);
  return 0;
}

/** Linear-memory bytes below the arena (static data and both buffers), as HELLO reports them; 0 before init. */
export function agent_overhead(): u32 {
  return overhead;
}

/**
 * The TCP port where this device's host takes forwarded RUN chunks and whose
 * host forwards outputs (docs/protocol.md section 3); HELLO reports it. A
 * host that cannot forward (the board firmware) never calls it: 0.
 */
let meshPort: u32 = 0;
export function set_mesh_port(port: u32): void {
  meshPort = port;
}

export function rx_buffer(): usize {
  return rxBuffer;
}

/**
 * Keys the device with `len` bytes the host placed in the receive buffer, for
 * the session `bootSession` (nonzero, new at every start: a boot counter kept
 * in flash or a file, or a random number). Counters start over in it.
 */
export function provision_key(len: u32, bootSession: u32): u32 {
  if (!ready || keyed || len < 1 || <usize>len > MAX_KEY_BYTES || bootSession == 0) return E_BAD_MESSAGE;
  hmacSetKey(rxBuffer, len);
  memory.fill(rxBuffer, 0, len);
  hmacSha256(SEAL_LABEL, SEAL_LABEL_BYTES, SEAL_KEY);
  chachaSetKey(SEAL_KEY);
  keyed = true;
  session = bootSession;
  return 0;
}

/**
 * Tags the board's own ERROR TRAP message (docs/protocol.md section 6), so
 * the MAC stays implemented once: the host put the message (version byte,
 * CBOR map whose last entry is the 32-byte tag, zeroed) of `len` bytes in the
 * receive buffer, and `trapped` is the session of the start that trapped. A
 * keyed agent writes the tag over the message and the binding (trapped, 0),
 * as for its own ERRORs to requests without a counter. 0, or E_BAD_MESSAGE
 * when the agent is not keyed or the message plus binding exceed the buffer.
 */
export function tag_trap(len: u32, trapped: u32): u32 {
  if (!keyed || len <= TAG_BYTES || len > window - 8) return E_BAD_MESSAGE;
  const tag = rxBuffer + len - TAG_BYTES;
  memory.fill(tag, 0, TAG_BYTES);
  store<u32>(rxBuffer + len, trapped);
  store<u32>(rxBuffer + len + 4, 0);
  hmacSha256(rxBuffer, len + 8, TAG);
  memory.copy(tag, TAG, TAG_BYTES);
  return 0;
}

export function feed(len: u32): u32 {
  if (!ready || len > window) return E_BAD_MESSAGE;
  for (let i: u32 = 0; i < len; i++) {
    const r = rxByte(load<u8>(rxBuffer + i));
    if (r == RX_FRAME) {
      handleFrame();
    } else if (r == RX_CORRUPT) {
      badFrames++;
    } else if (r == RX_OVERSIZED) {
      badFrames++;
      textReset();
      textStr("frame longer than the receive window of ");
      textU32(window);
      textStr(" bytes");
      replyCounter = 0;
      sendError(0, E_TOO_LARGE);
    }
  }
  return 0;
}

/** One step of pending work; 1 while a RUN is computing. */
export function poll(): u32 {
  if (!ready) return 0;
  textReset();
  const r = runStep();
  if (r == STEP_RESULT) sendResult();
  else if (r == STEP_ERROR) {
    replyCounter = runDoneCounter;
    sendError(runSeq, E_KERNEL);
  }
  return r == STEP_MORE ? 1 : 0;
}

export function high_water(): u32 {
  return arenaHighWater();
}

export function arena_used(): u32 {
  return arenaUsed();
}

/** A keyed device's reply ends with its tag (docs/protocol.md section 4): the entry's head, then the HMAC also over `bindLen` bytes of BIND. */
function endTagged(key: u32, bindLen: usize): void {
  if (keyed) {
    writeUint(key);
    writeHead(MAJOR_BYTES, TAG_BYTES);
    txTag(BIND, bindLen);
  }
  txEnd();
}

/** Entries a reply with `n` fields has: type, seq, the fields, and a keyed device's tag. */
function entries(n: u32): u32 {
  return 2 + n + (keyed ? 1 : 0);
}

function sendError(seq: u32, code: u32): void {
  txBegin(keyed);
  writeHead(MAJOR_MAP, entries(R_ERROR_FIELDS));
  writeEntry(K_TYPE, T_ERROR);
  writeEntry(K_SEQ, seq);
  writeEntry(R_ERROR_CODE, code);
  writeUint(R_ERROR_TEXT);
  writeTextBytes(TEXT, textLen);
  store<u32>(BIND, session);
  store<u32>(BIND + 4, replyCounter);
  endTagged(R_ERROR_TAG, 8);
}

function sendAck(seq: u32, frag: u32, next: u32, done: bool): void {
  txBegin();
  writeHead(MAJOR_MAP, 5);
  writeEntry(K_TYPE, T_ACK);
  writeEntry(K_SEQ, seq);
  writeEntry(R_ACK_FRAG, frag);
  writeEntry(R_ACK_NEXT, next);
  writeEntry(R_ACK_DONE, done ? 1 : 0);
  txEnd();
}

/** Writes `len` bytes at `ptr` as a byte string encrypted on the way, the stored bytes untouched. */
function writeSealedBytes(ptr: usize, len: u32): void {
  writeHead(MAJOR_BYTES, len);
  chachaSetNonce(TO_GATEWAY, session, runDoneCounter);
  for (let at: u32 = 0; at < len; at += 64) {
    chachaBlock(at >>> 6);
    const n = min<u32>(64, len - at);
    for (let i: u32 = 0; i < n; i++) txByte(<u32>(load<u8>(ptr + at + i) ^ load<u8>(KEYSTREAM + i)));
  }
}

function sendResult(): void {
  txBegin(keyed);
  writeHead(MAJOR_MAP, entries(R_RESULT_FIELDS) + (resultSealed ? 1 : 0) + (runDoneRun != 0 ? 1 : 0));
  writeEntry(K_TYPE, T_RESULT);
  writeEntry(K_SEQ, runSeq);
  writeEntry(R_RESULT_FRAG, runFrag());
  writeUint(R_RESULT_DATA);
  if (resultSealed) writeSealedBytes(runOutputPtr(), runOutputBytes());
  else writeBytes(runOutputPtr(), runOutputBytes());
  writeEntry(R_RESULT_HIGH_WATER, arenaHighWater());
  writeEntry(R_RESULT_COMPUTE_US, runComputeUs());
  if (resultSealed) writeEntry(R_RESULT_SEALED, 1);
  if (runDoneRun != 0) writeEntry(R_RESULT_RUN, runDoneRun);
  store<u32>(BIND, session);
  store<u32>(BIND + 4, runOpenCounter);
  store<u32>(BIND + 8, runDoneCounter);
  memory.copy(BIND + 12, runDigest(), 32);
  endTagged(R_RESULT_TAG, 44);
}

/** `nonce`/`nonceLen`: the request's nonce, which a keyed device's tag covers. */
function sendHello(seq: u32, nonce: usize, nonceLen: u32): void {
  txBegin(keyed);
  writeHead(MAJOR_MAP, entries(R_HELLO_FIELDS));
  writeEntry(K_TYPE, T_HELLO);
  writeEntry(K_SEQ, seq);
  writeEntry(R_HELLO_VERSION, PROTOCOL_VERSION);
  writeEntry(R_HELLO_BUDGET, arenaBudget());
  writeUint(R_HELLO_ENGINE);
  writeText(engineName(engine));
  writeEntry(R_HELLO_ABI, kernelAbiHash());
  writeEntry(R_HELLO_WINDOW, window);
  writeEntry(R_HELLO_CLOCK_HZ, CLOCK_HZ);
  writeEntry(R_HELLO_KEYED, keyed ? 1 : 0);
  writeEntry(R_HELLO_AUTH_FAILURES, authFailures);
  writeEntry(R_HELLO_COUNTER, lastCounter);
  writeEntry(R_HELLO_BAD_FRAMES, badFrames);
  writeEntry(R_HELLO_USED, arenaUsed());
  writeEntry(R_HELLO_HIGH_WATER, arenaHighWater());
  writeUint(R_HELLO_FRAGMENTS);
  const n = fragmentCount();
  writeHead(MAJOR_ARRAY, <u32>n);
  for (let s = 0; s < n; s++) writeUint(fragmentId(s));
  writeEntry(R_HELLO_OVERHEAD, overhead);
  writeEntry(R_HELLO_MESH, meshPort);
  writeEntry(R_HELLO_SESSION, session);
  memory.copy(BIND, nonce, nonceLen);
  endTagged(R_HELLO_TAG, nonceLen);
}

function sendPing(seq: u32): void {
  txBegin();
  writeHead(MAJOR_MAP, 3);
  writeEntry(K_TYPE, T_PING);
  writeEntry(K_SEQ, seq);
  writeEntry(R_PING_CLOCK, <u32>clockUs());
  txEnd();
}

function sendProfile(seq: u32): void {
  txBegin();
  writeHead(MAJOR_MAP, 3);
  writeEntry(K_TYPE, T_PROFILE);
  writeEntry(K_SEQ, seq);
  writeUint(R_PROFILE_RATES);
  writeHead(MAJOR_MAP, PROFILE_OPS);
  for (let i: u32 = 0; i < PROFILE_OPS; i++) {
    writeText(profileOpName(i));
    writeUint(profileRate(i));
  }
  txEnd();
}

/** Keyed devices: the tag (the message's last 32 bytes) and the counter. 0, or an error code with TEXT set. */
function authenticate(): u32 {
  const end = frameStart + frameLen;
  if (!cbor.isBytes(K_TAG) || cbor.value(K_TAG) != TAG_BYTES || cbor.dataPtr(K_TAG) + TAG_BYTES != end) {
    textStr("this device is keyed: the request needs a 32-byte tag as its last field");
    return E_AUTH;
  }
  const tagAt = cbor.dataPtr(K_TAG);
  memory.copy(TAG, tagAt, TAG_BYTES);
  memory.fill(tagAt, 0, TAG_BYTES);
  hmacSha256(frameStart, frameLen, EXPECTED);
  if (!equalConstantTime(TAG, EXPECTED, TAG_BYTES)) {
    textStr("tag does not match the device key");
    return E_AUTH;
  }
  if (!cbor.isUint(K_SESSION) || cbor.value(K_SESSION) != session) {
    if (cbor.isUint(K_SESSION)) {
      textStr("session ");
      textU32(cbor.value(K_SESSION));
      textStr(" is not this boot's ");
      textU32(session);
    } else textStr("this device is keyed: the request needs its session");
    return E_REPLAY;
  }
  if (!cbor.isUint(K_COUNTER)) {
    textStr("this device is keyed: the request needs a counter");
    return E_REPLAY;
  }
  const c = cbor.value(K_COUNTER);
  if (c <= lastCounter) {
    textStr("counter ");
    textU32(c);
    textStr(" is not above the last accepted ");
    textU32(lastCounter);
    return E_REPLAY;
  }
  lastCounter = c;
  return 0;
}

/** Keyed devices, a forwarded RUN chunk: the tag (the message's last 32 bytes) under its run's route key. 0, or E_AUTH with TEXT set. */
function authenticateRoute(): u32 {
  const end = frameStart + frameLen;
  if (!cbor.isBytes(K_TAG) || cbor.value(K_TAG) != TAG_BYTES || cbor.dataPtr(K_TAG) + TAG_BYTES != end) {
    textStr("this device is keyed: a forwarded chunk needs a 32-byte tag as its last field");
    return E_AUTH;
  }
  if (!cbor.isUint(K_RUN_RUN) || cbor.value(K_RUN_RUN) == 0) {
    textStr("a forwarded chunk needs its run");
    return E_AUTH;
  }
  memory.copy(ROUTE_IN, ROUTE_LABEL, ROUTE_LABEL_BYTES);
  store<u32>(ROUTE_IN + 16, session);
  store<u32>(ROUTE_IN + 20, cbor.value(K_RUN_RUN));
  hmacSha256(ROUTE_IN, 24, ROUTE_KEY);
  const tagAt = cbor.dataPtr(K_TAG);
  memory.copy(TAG, tagAt, TAG_BYTES);
  memory.fill(tagAt, 0, TAG_BYTES);
  hmacSha256With(ROUTE_KEY, 32, frameStart, frameLen, EXPECTED);
  if (!equalConstantTime(TAG, EXPECTED, TAG_BYTES)) {
    textStr("tag does not match the route key of run ");
    textU32(cbor.value(K_RUN_RUN));
    return E_AUTH;
  }
  return 0;
}

function busy(what: string): void {
  textStr(what);
  textStr(" while fragment ");
  textU32(runFrag());
  textStr(" computes; wait for its RESULT or CANCEL it");
}

function handleFrame(): void {
  textReset();
  replyCounter = 0;
  const version = <u32>load<u8>(frameStart);
  if (version != PROTOCOL_VERSION) {
    textStr("frame speaks protocol version ");
    textU32(version);
    textStr("; this device speaks ");
    textU32(PROTOCOL_VERSION);
    sendError(0, E_BAD_VERSION);
    return;
  }
  if (!cbor.parseMap(frameStart + 1, frameLen - 1) || !cbor.isUint(K_TYPE) || !cbor.isUint(K_SEQ)) {
    textStr("message is not a CBOR map with a type and a seq");
    sendError(0, E_BAD_MESSAGE);
    return;
  }
  const type = cbor.value(K_TYPE);
  const seq = cbor.value(K_SEQ);
  replyCounter = cbor.isUint(K_COUNTER) ? cbor.value(K_COUNTER) : 0;
  const authenticated = isAuthenticated(type);
  // A chunk another device forwarded: no session or counter, its tag under the run's route key.
  const routed = type == T_RUN && cbor.isUint(K_RUN_ROUTED) && cbor.value(K_RUN_ROUTED) == 1;
  if (routed && cbor.isUint(K_SEALED)) {
    textStr("a forwarded chunk is not sealed");
    sendError(seq, E_BAD_MESSAGE);
    return;
  }
  if (keyed && authenticated) {
    const err = routed ? authenticateRoute() : authenticate();
    if (err != 0) {
      authFailures++;
      sendError(seq, err);
      return;
    }
  }
  const sealed = cbor.isUint(K_SEALED) && cbor.value(K_SEALED) == 1 && (type == T_LOAD || type == T_RUN);
  if (sealed) {
    if (!keyed) {
      textStr("sealed data needs a keyed device");
      sendError(seq, E_BAD_MESSAGE);
      return;
    }
    // Authenticated above, so the ciphertext is the gateway's (encrypt-then-MAC).
    if (cbor.isBytes(K_LOAD_DATA)) {
      chachaSetNonce(TO_DEVICE, session, cbor.value(K_COUNTER));
      chachaXor(cbor.dataPtr(K_LOAD_DATA), cbor.value(K_LOAD_DATA));
    }
  }
  if (type == T_HELLO) {
    const hasNonce = cbor.isBytes(K_HELLO_NONCE);
    if (hasNonce && cbor.value(K_HELLO_NONCE) > MAX_NONCE_BYTES) {
      textStr("HELLO nonce of ");
      textU32(cbor.value(K_HELLO_NONCE));
      textStr(" bytes; at most 32");
      sendError(seq, E_BAD_MESSAGE);
      return;
    }
    sendHello(seq, hasNonce ? cbor.dataPtr(K_HELLO_NONCE) : 0, hasNonce ? cbor.value(K_HELLO_NONCE) : 0);
  } else if (type == T_PING) {
    sendPing(seq);
  } else if (type == T_PROFILE) {
    if (runComputing()) {
      busy("PROFILE");
      sendError(seq, E_BUSY);
      return;
    }
    profile(cbor.isUint(K_PROFILE_MACS) ? min(cbor.value(K_PROFILE_MACS), MAX_PROFILE_MACS) : DEFAULT_PROFILE_MACS);
    sendProfile(seq);
  } else if (type == T_LOAD) {
    if (runComputing()) {
      busy("LOAD");
      sendError(seq, E_BUSY);
      return;
    }
    const err = loadChunk();
    if (err != 0) {
      sendError(seq, err);
      return;
    }
    // An input being received for the fragment this LOAD replaced was laid out for the old one.
    if (loadDone) runCancel(cbor.value(K_LOAD_FRAG));
    sendAck(seq, cbor.value(K_LOAD_FRAG), loadNext, loadDone);
  } else if (type == T_RUN) {
    if (runComputing()) {
      busy("RUN");
      sendError(seq, E_BUSY);
      return;
    }
    const err = runChunk(seq, keyed && !routed ? cbor.value(K_COUNTER) : 0);
    if (err != 0) sendError(seq, err);
    else {
      if (runDone) resultSealed = sealed;
      sendAck(seq, cbor.value(K_RUN_FRAG), runNext, runDone);
    }
  } else if (type == T_CANCEL) {
    if (!cbor.isUint(K_CANCEL_FRAG)) {
      textStr("CANCEL needs frag (uint)");
      sendError(seq, E_BAD_MESSAGE);
      return;
    }
    runCancel(cbor.value(K_CANCEL_FRAG));
    sendAck(seq, cbor.value(K_CANCEL_FRAG), 0, true);
  } else if (type == T_UNLOAD) {
    handleUnload(seq);
  } else if (type == T_RESET) {
    runAbort();
    loadAbort();
    arenaReset();
    sendAck(seq, 0, 0, true);
  } else {
    textStr("unknown message type ");
    textU32(type);
    sendError(seq, E_UNKNOWN_TYPE);
  }
}

function handleUnload(seq: u32): void {
  if (!cbor.isUint(K_UNLOAD_FRAG)) {
    textStr("UNLOAD needs frag (uint)");
    sendError(seq, E_BAD_MESSAGE);
    return;
  }
  const id = cbor.value(K_UNLOAD_FRAG);
  if (runComputing()) {
    busy("UNLOAD");
    sendError(seq, E_BUSY);
    return;
  }
  let found = false;
  if (loadOpen() && loadFragment() == id) {
    loadAbort();
    found = true;
  }
  const slot = findFragment(id);
  if (slot >= 0) {
    runCancel(id);
    removeFragment(slot);
    found = true;
  }
  if (!found) {
    textStr("UNLOAD of fragment ");
    textU32(id);
    textStr(", which is not loaded");
    sendError(seq, E_NO_FRAGMENT);
    return;
  }
  sendAck(seq, id, 0, true);
}
