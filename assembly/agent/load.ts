// LOAD transfers (docs/protocol.md section 3): a fragment blob arrives in
// chunks, in order, straight into its reserved place in the arena; it is
// committed only when whole, its SHA-256 digest matches and it validates.
import * as cbor from "./cbor";
import { textStr, textU32 } from "./text";
import { sha256Init, sha256Update, sha256Final, SHA256_CTX_BYTES } from "./sha256";
import { equalConstantTime } from "./hmac";
import {
  K_LOAD_FRAG, K_LOAD_OFFSET, K_LOAD_DATA, K_LOAD_TOTAL, K_LOAD_DIGEST, K_LOAD_ARENA,
  E_BAD_MESSAGE, E_NO_MEMORY, E_BAD_TRANSFER, E_BAD_FRAGMENT, E_LIMIT, BLOB_HEADER_BYTES,
} from "./protocol.generated";
import {
  arenaBudget, arenaFree, bytesNeeded, reservePending, pendingAddr, dropPending, commitPending, findFragment, fragmentCount, MAX_FRAGMENTS,
} from "./arena";
import { validateAndPrepare } from "./blob";

const CTX: usize = memory.data(<i32>SHA256_CTX_BYTES, 8);
const DIGEST: usize = memory.data(32, 4);
const ACTUAL: usize = memory.data(32, 4);

let open = false;
let frag: u32 = 0;
let total: u32 = 0;
let act: u32 = 0;
/** Bytes of the open transfer received in order. */
export let loadNext: u32 = 0;
/** The last chunk completed and committed the fragment. */
export let loadDone = false;

export function loadOpen(): bool {
  return open;
}
export function loadFragment(): u32 {
  return frag;
}

export function loadAbort(): void {
  if (open) dropPending();
  open = false;
}

function missing(field: string): u32 {
  textStr("LOAD at offset 0 needs ");
  textStr(field);
  return E_BAD_MESSAGE;
}

function begin(id: u32): u32 {
  if (!cbor.isUint(K_LOAD_TOTAL)) return missing("total (uint)");
  if (!cbor.isBytes(K_LOAD_DIGEST) || cbor.value(K_LOAD_DIGEST) != 32) return missing("digest (32 bytes)");
  if (!cbor.isUint(K_LOAD_ARENA)) return missing("arena (uint)");
  const t = cbor.value(K_LOAD_TOTAL);
  const a = cbor.value(K_LOAD_ARENA);
  if (t < BLOB_HEADER_BYTES) {
    textStr("LOAD total of ");
    textU32(t);
    textStr(" bytes is below the blob header");
    return E_BAD_FRAGMENT;
  }
  loadAbort();
  if (findFragment(id) < 0 && fragmentCount() == MAX_FRAGMENTS) {
    textStr("fragment table full (");
    textU32(<u32>MAX_FRAGMENTS);
    textStr(" fragments); UNLOAD one first");
    return E_LIMIT;
  }
  const need = bytesNeeded(t, a);
  const free = arenaFree();
  if (need > <u64>free) {
    textStr("LOAD fragment ");
    textU32(id);
    textStr(" needs ");
    if (need > 0xffffffff) textStr("more than 4294967295"); else textU32(<u32>need);
    textStr(" bytes, ");
    textU32(free);
    textStr(" free (budget ");
    textU32(arenaBudget());
    textStr(")");
    return E_NO_MEMORY;
  }
  reservePending(t, a);
  open = true;
  frag = id;
  total = t;
  act = a;
  loadNext = 0;
  memory.copy(DIGEST, cbor.dataPtr(K_LOAD_DIGEST), 32);
  sha256Init(CTX);
  return 0;
}

function commit(): u32 {
  sha256Final(CTX, ACTUAL);
  const blob = pendingAddr();
  open = false;
  if (!equalConstantTime(DIGEST, ACTUAL, 32)) {
    dropPending();
    textStr("LOAD fragment ");
    textU32(frag);
    textStr(": SHA-256 of the received blob differs from the digest");
    return E_BAD_FRAGMENT;
  }
  const bad = validateAndPrepare(blob, total, act);
  if (bad != 0) {
    dropPending();
    return bad;
  }
  commitPending(frag, DIGEST);
  loadDone = true;
  return 0;
}

/** Handles a LOAD chunk whose fields are in the CBOR table: 0 (answer ACK) or an error code with TEXT set. */
export function loadChunk(): u32 {
  loadDone = false;
  if (!cbor.isUint(K_LOAD_FRAG) || !cbor.isUint(K_LOAD_OFFSET) || !cbor.isBytes(K_LOAD_DATA)) {
    textStr("LOAD needs frag (uint), offset (uint), data (bytes)");
    return E_BAD_MESSAGE;
  }
  const id = cbor.value(K_LOAD_FRAG);
  const offset = cbor.value(K_LOAD_OFFSET);
  if (offset == 0) {
    const err = begin(id);
    if (err != 0) return err;
  } else if (!open || id != frag) {
    textStr("LOAD chunk of fragment ");
    textU32(id);
    textStr(" at offset ");
    textU32(offset);
    textStr(" with no transfer of it open");
    return E_BAD_TRANSFER;
  }
  // Go-back-N: a chunk out of order is answered with the current `next` only.
  if (offset != loadNext) return 0;
  const len = cbor.value(K_LOAD_DATA);
  if (<u64>offset + <u64>len > <u64>total) {
    textStr("LOAD chunk ends at ");
    textU32(<u32>min<u64>(<u64>offset + <u64>len, 0xffffffff));
    textStr(", past the total of ");
    textU32(total);
    loadAbort();
    return E_BAD_TRANSFER;
  }
  const dst = pendingAddr() + offset;
  memory.copy(dst, cbor.dataPtr(K_LOAD_DATA), len);
  sha256Update(CTX, dst, len);
  loadNext = offset + len;
  return loadNext == total ? commit() : 0;
}
