#!/usr/bin/env python3
"""An independent OneDoor kiosk client, written from docs/sync-api.md alone,
with the Python 3 standard library only (Ed25519 from RFC 8032 section 6).

    independent_client.py BASE_URL KIOSK_ID ENROLMENT_CODE PAGE_FILE

It enrols a fresh key pair, uploads a page (resumably), submits an
application naming it, replays the submission, reads the statuses feed,
looks the case up with the receipt's lookup code and with the card's holder
proof, rates it, sends heartbeats and fetches the catalog. It checks every
answer against the document and exits 0 only if all of them hold.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse
import uuid

# --- Ed25519 (RFC 8032, section 6) -------------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493


def _inv(x):
    return pow(x, P - 2, P)


D = -121665 * _inv(121666) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, p):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, p)
        p = _add(p, p)
        s >>= 1
    return q


def _recover_x(y, sign):
    x2 = (y * y - 1) * _inv(D * y * y + 1)
    if x2 == 0:
        return 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(p):
    zi = _inv(p[2])
    x, y = p[0] * zi % P, p[1] * zi % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(seed):
    a, _ = _expand(seed)
    return _compress(_mul(a, G))


def ed25519_sign(seed, msg):
    a, prefix = _expand(seed)
    pub = _compress(_mul(a, G))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % Q
    rs = _compress(_mul(r, G))
    h = int.from_bytes(hashlib.sha512(rs + pub + msg).digest(), "little") % Q
    return rs + int.to_bytes((r + h * a) % Q, 32, "little")


# --- the protocol -------------------------------------------------------------

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def string_to_sign(method, request_uri, ts, nonce, content_sha):
    return "\n".join([method, request_uri, ts, nonce, content_sha])


def normalize_code(s):
    s = s.upper().replace(" ", "").replace("-", "")
    return s.replace("O", "0").replace("I", "1").replace("L", "1")


def holder_proof(id_number, receipt):
    key = id_number.strip().upper().encode()
    return hmac.new(key, ("onedoor-holder-v1\n" + receipt).encode(), hashlib.sha256).hexdigest()


class Kiosk:
    def __init__(self, base, kiosk_id, seed):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port or 80
        self.kiosk_id, self.seed = kiosk_id, seed

    def request(self, method, path, body=b"", headers=None, unsigned=False):
        ts = str(int(time.time()))
        nonce = os.urandom(16).hex()
        content_sha = "UNSIGNED-PAYLOAD" if unsigned else hashlib.sha256(body).hexdigest()
        sig = ed25519_sign(self.seed, string_to_sign(method, path, ts, nonce, content_sha).encode()).hex()
        h = {
            "X-OneDoor-Kiosk": self.kiosk_id,
            "X-OneDoor-Timestamp": ts,
            "X-OneDoor-Nonce": nonce,
            "X-OneDoor-Content-SHA256": content_sha,
            "X-OneDoor-Signature": sig,
        }
        h.update(headers or {})
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, path, body=body if body else None, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def json(self, method, path, obj_or_bytes, headers=None):
        body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes, ensure_ascii=False, separators=(",", ":")).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        return self.request(method, path, body, h)


def error_code(body):
    try:
        return json.loads(body).get("code")
    except ValueError:
        return None


def self_test():
    # RFC 8032 test 1 and the document's signing test vector.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    check(ed25519_public(seed).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "Ed25519 public key")
    check(ed25519_sign(seed, b"").hex().startswith("e5564300c360ac729086e2cc806e828a"), "Ed25519 RFC 8032 test 1")
    sts = string_to_sign("POST", "/api/v1/submissions", "1767225600", "000102030405060708090a0b0c0d0e0f", EMPTY_SHA256)
    check(ed25519_sign(seed, sts.encode()).hex().startswith("0a1138c8fda2604e"), "the document's Ed25519 vector")
    check(hmac.new(b"tok123", sts.encode(), hashlib.sha256).hexdigest() == "5e7a7f27c7ac50ffea474cfd9c397c99ec133f438649ca618b41b9d20a82538e", "the document's HMAC vector")
    check(hashlib.sha256(normalize_code("7k3qf-2m9xd").encode()).hexdigest() == "ce353da664a6dcf616aef82a0d0837a6b3427ee8ccc427461b42e0747c41a02d", "lookup code vector")
    check(holder_proof("441900199001011231", "DG-0001-20261125-0001") == "ead18ea628122d7535ec62e20e85f1aad65998c649e730aa9690f5f4c72a1c4e", "holder proof vector")


def run(base, kiosk_id, code, page_path):
    self_test()
    seed = os.urandom(32)
    k = Kiosk(base, kiosk_id, seed)

    # Enrolment, and its replay after a "lost" answer.
    enrol = {"kiosk_id": kiosk_id, "code": code.lower(), "algorithm": "ed25519", "public_key": ed25519_public(seed).hex()}
    st, _, body = k.json("POST", "/api/v1/enrol", enrol)
    check(st == 201, "enrol: %d %r" % (st, body))
    first = json.loads(body)
    check(first["kiosk_id"] == kiosk_id and first["algorithm"] == "ed25519", "enrol answer %r" % body)
    st, _, body = k.json("POST", "/api/v1/enrol", enrol)
    check(st == 201 and json.loads(body)["enrolled_at"] == first["enrolled_at"], "enrol replay: %d %r" % (st, body))

    page = open(page_path, "rb").read()
    sha = hashlib.sha256(page).hexdigest()
    blob = "/api/v1/blobs/" + sha
    id_number = "441900199001011231"
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
    receipt = "%s-%s-%04d" % (kiosk_id, today.strftime("%Y%m%d"), 1)
    lookup = "".join(ALPHABET[b & 31] for b in os.urandom(10))
    sub_uuid = str(uuid.uuid4())
    submission = {
        "uuid": sub_uuid, "receipt": receipt, "kiosk_id": kiosk_id,
        "item_id": "hukou-move", "item_version": "3", "created_at": today.isoformat(timespec="seconds"),
        "applicant": {"name": "独立测试", "id_number": id_number, "phone": "13800000000", "birth_date": "19900101"},
        "lookup_code_sha256": hashlib.sha256(lookup.encode()).hexdigest(),
        "form": {"reason": "工作调动"},
        "materials": [{"material_id": "hukou-book", "kind": "scan", "pages": [{"sha256": sha, "size": len(page), "content_type": "image/png"}]},
                      {"material_id": "promise", "kind": "promise", "promise_text": "本人承诺所填信息真实。"}],
    }
    sub_bytes = json.dumps(submission, ensure_ascii=False, separators=(",", ":")).encode()
    idem = {"Idempotency-Key": sub_uuid}

    # Blobs first: naming a page not uploaded is 422 missing_blobs.
    st, _, body = k.json("POST", "/api/v1/submissions", sub_bytes, idem)
    check(st == 422 and error_code(body) == "missing_blobs" and json.loads(body)["missing_blobs"] == [sha], "submit before upload: %d %r" % (st, body))

    # Resumable upload: HEAD 404, an unsigned first chunk, a stale offset, the rest.
    st, h, _ = k.request("HEAD", blob)
    check(st == 404 and h.get("cache-control") == "no-store", "HEAD before upload: %d" % st)
    patch = {"Content-Type": "application/offset+octet-stream", "Upload-Length": str(len(page))}
    cut = len(page) // 3
    st, h, body = k.request("PATCH", blob, page[:cut], dict(patch, **{"Upload-Offset": "0"}), unsigned=True)
    check(st == 204 and h.get("upload-offset") == str(cut), "first chunk: %d %r %r" % (st, h, body))
    st, h, body = k.request("PATCH", blob, page[:cut], dict(patch, **{"Upload-Offset": "0"}))
    check(st == 409 and error_code(body) == "offset_mismatch" and h.get("upload-offset") == str(cut), "stale offset: %d %r" % (st, body))
    st, h, _ = k.request("HEAD", blob)
    check(st == 200 and h.get("upload-offset") == str(cut) and "upload-length" not in h, "HEAD mid-upload: %d %r" % (st, h))
    st, h, body = k.request("PATCH", blob, page[cut:], dict(patch, **{"Upload-Offset": str(cut)}))
    check(st == 204 and h.get("upload-offset") == str(len(page)), "last chunk: %d %r" % (st, body))
    st, h, _ = k.request("HEAD", blob)
    check(st == 200 and h.get("upload-length") == str(len(page)), "HEAD complete: %d %r" % (st, h))

    # Submit, replay the same bytes, and a re-encoding of the same JSON.
    st, _, first_body = k.json("POST", "/api/v1/submissions", sub_bytes, idem)
    check(st == 201, "submit: %d %r" % (st, first_body))
    answer = json.loads(first_body)
    check(answer["receipt"] == receipt and answer["uuid"] == sub_uuid and answer["status"] == "received", "submit answer %r" % first_body)
    st, _, again = k.json("POST", "/api/v1/submissions", sub_bytes, {"Idempotency-Key": '"%s"' % sub_uuid})
    check(st == 201 and again == first_body, "replay: %d, identical=%s" % (st, again == first_body))
    reencoded = json.dumps(submission, ensure_ascii=True).encode()
    st, _, body = k.json("POST", "/api/v1/submissions", reencoded, idem)
    check(st == 409 and error_code(body) == "idempotency_conflict", "re-encoded replay: %d %r" % (st, body))

    # Statuses feed and its cursor.
    st, _, body = k.request("GET", "/api/v1/statuses?since=0")
    feed = json.loads(body)
    check(st == 200 and feed["cursor"].isdigit() and [u["status"] for u in feed["updates"]] == ["received"], "statuses: %d %r" % (st, body))
    st, _, body = k.request("GET", "/api/v1/statuses?since=" + urllib.parse.quote(feed["cursor"]))
    check(st == 200 and json.loads(body)["updates"] == [], "statuses after the cursor: %r" % body)

    # Lookups: nothing without proof, the case with the code or the card.
    track = "/api/v1/track/" + urllib.parse.quote(receipt)
    st, _, body = k.request("GET", track)
    check(st == 404 and error_code(body) == "not_found", "track without proof: %d %r" % (st, body))
    typed = (lookup[:5] + "-" + lookup[5:]).lower()
    st, _, body = k.request("GET", track, headers={"X-OneDoor-Lookup-Code": typed})
    check(st == 200, "track with the lookup code: %d %r" % (st, body))
    tr = json.loads(body)
    check(tr["case_number"] == answer["case_number"] and tr["applicant_name"] == "独**试" and id_number.encode() not in body, "track answer %r" % body)
    st, _, body = k.request("GET", track, headers={"X-OneDoor-Holder-Proof": holder_proof(id_number, receipt)})
    check(st == 200, "track with the holder proof: %d %r" % (st, body))

    # Rating, and its replay.
    rating_uuid = str(uuid.uuid4())
    rating = json.dumps({"uuid": rating_uuid, "receipt": receipt, "level": 5, "at": today.isoformat(timespec="seconds")}).encode()
    st, _, r1 = k.json("POST", "/api/v1/ratings", rating, {"Idempotency-Key": rating_uuid})
    check(st == 201 and json.loads(r1)["uuid"] == rating_uuid, "rate: %d %r" % (st, r1))
    st, _, r2 = k.json("POST", "/api/v1/ratings", rating, {"Idempotency-Key": rating_uuid})
    check(st == 201 and r2 == r1, "rating replay: %d" % st)

    # Heartbeat: every documented field; a misspelt one is refused.
    hb = {"kiosk_id": kiosk_id, "version": "py-1", "devices": {"printer": "ok", "scanner": "absent"}, "queue_depth": 0,
          "oldest_age_seconds": 0, "free_disk_bytes": 8 << 30, "last_sync": today.isoformat(timespec="seconds"),
          "clock_offset_ms": 0, "paper_near_end": False, "paper_out": False}
    st, _, body = k.json("POST", "/api/v1/heartbeat", hb)
    check(st == 200 and "server_time" in json.loads(body), "heartbeat: %d %r" % (st, body))
    st, _, body = k.json("POST", "/api/v1/heartbeat", {"kiosk_id": kiosk_id, "free_disk": 1})
    check(st == 422 and error_code(body) == "validation", "misspelt heartbeat: %d %r" % (st, body))

    # Catalog with a weak ETag.
    st, h, body = k.request("GET", "/api/v1/catalog")
    check(st == 200 and h.get("etag", "").startswith('"'), "catalog: %d %r" % (st, h))
    st, _, _ = k.request("GET", "/api/v1/catalog", headers={"If-None-Match": "W/" + h["etag"]})
    check(st == 304, "catalog with a weak ETag: %d" % st)

    # Odd paths get the JSON error body.
    st, _, body = k.request("GET", "/API/V1/CATALOG")
    check(st == 404 and error_code(body) == "not_found", "upper-case path: %d %r" % (st, body))
    return answer["case_number"]


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        case = run(*argv[1:])
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    print("OK %s" % case)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
