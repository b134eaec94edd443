#!/usr/bin/env python3
"""Verify an o2s_esign evidence file ("dossier de preuve").

Usage:
    python3 verify.py                  run inside the unpacked evidence folder
    python3 verify.py EVIDENCE.zip     check the ZIP as received (nothing is extracted)
    python3 verify.py FOLDER           check an unpacked folder

Options:
    --trust PEM           pin trust to this CA certificate (repeatable): signatures and seals
                          are then trusted only when they chain to a --trust certificate;
                          certificates/company-ca.pem is trusted only if it is one of them
    --ca-fingerprint FP   pin certificates/company-ca.pem to this SHA-256 fingerprint (hex,
                          colons optional; repeatable): the one your company publishes
    --no-pyhanko          do not use pyHanko even if installed (stdlib checks only)
    --strict              every SKIP that weakens the conclusion counts as failed (no pyHanko,
                          no trusted time on the manifest, a report that does not state its
                          chain head)
    --online              allow fetching revocation data over the network (off by default)

Use a copy of this script that the ZIP could not change (the project's repository, or the
download of the company's verification page, whose SHA-256 it shows): a forger would ship a
verify.py of their own.

Trust is never taken from the file being checked. Signatures and the manifest seal are trusted
only when they chain to certificates/company-ca.pem (whose fingerprint is printed: compare it
with the one your company publishes, or pin it) or to a --trust certificate. The time-stamping
authority roots of the ZIP (certificates/tsa-root*.pem) serve only to validate time-stamp
tokens, never signatures or seals. manifest.json and evidence.pdf must be sealed by the
company seal certificate (certificates/company-seal.pem).

Needs only Python 3.8+ (standard library). When pyHanko is importable, the signatures of the
PDFs and of manifest.json are verified as well; otherwise those checks are reported as SKIP.
Each check prints PASS, FAIL, SKIP or INFO with its name. The exit status is 0 when no check
failed and 1 otherwise; the last line names each failed check.

Checks:
  zip_structure       (ZIP only) the archive has the exact layout the generator writes: stored
                      entries back to back from the first byte, headers consistent, no extra
                      data, nothing after the end record; so any changed byte is detected
  entries             every entry name is a plain relative path (no "..", no absolute path,
                      no backslash), no duplicates, no links or special files
  manifest            manifest.json is present and well formed
  files_complete      the files present are exactly those listed in the manifest
                      (besides manifest.json, manifest.json.p7s, timestamps/manifest.json.tsr)
  hash:<path>         the SHA-256 of each listed file matches the manifest
  company_ca          certificates/company-ca.pem holds one certificate (its fingerprint is
                      printed) and matches --ca-fingerprint / --trust when given
  certificates        every file of certificates/ is an expected one: company-ca.pem and
                      company-seal.pem (one certificate each), signer*, chain*, tsa* and
                      tsa-root* (self-signed) .pem files
  chain               the audit trail (audit_trail.json) hash chain re-computes from the start
  chain_head          the manifest's chain_head and event_count match the audit trail
  evidence_report     evidence.pdf states the same chain head and event count as the manifest
                      (its metadata), so the sealed report cannot disagree with the trail
  original_prefix:<p> each signed PDF starts with the bytes of its original (append-only)
  manifest_timestamp  the RFC 3161 token over manifest.json matches it (signature via pyHanko,
                      trusted up to a time-stamping authority root)
  manifest_seal       the detached CMS seal over manifest.json is by the company seal
                      certificate and chains to the trusted CA (pyHanko)
  pdf_signatures:<p>  every signature and document timestamp of the PDF is intact and valid,
                      with only allowed changes after it (pyHanko)
  pdf_trust:<p>       the signers chain up to the trusted CA, time-stamps up to a
                      time-stamping authority root; evidence.pdf is sealed by the company
                      seal certificate (pyHanko)

This file is a copy of o2s_esign/lib/verify.py. The canonical JSON and the hash chain are
duplicated here on purpose (o2s_esign/lib/chain.py is the reference implementation).
"""
# A command-line tool: its report is what it prints (pylint-odoo's print-used is for addon code).
# pylint: disable=print-used

import argparse
import base64
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import stat
import struct
import sys
import zipfile
import zlib
from datetime import datetime

VERSION = "2"
FORMAT = "o2s-esign-evidence/1"
AUDIT_FORMAT = "o2s-esign-audit/1"
MANIFEST = "manifest.json"
MANIFEST_SEAL = "manifest.json.p7s"
MANIFEST_TSR = "timestamps/manifest.json.tsr"
SEAL_FILES = (MANIFEST, MANIFEST_SEAL, MANIFEST_TSR)
COMPANY_CA = "certificates/company-ca.pem"
COMPANY_SEAL = "certificates/company-seal.pem"
EVIDENCE_REPORT = "evidence.pdf"
#: the certificate files the generator writes (lib/evidence/certificates.py); tsa-root* are
#: self-signed roots of the time-stamping authority, trusted for time-stamp tokens only
_CERT_FILE = re.compile(r"certificates/(company-ca|company-seal|(signer|chain|tsa)(-[A-Za-z0-9._-]*)?)"
                        r"\.pem\Z")
_TSA_ROOT_FILE = re.compile(r"certificates/tsa-root[A-Za-z0-9._-]*\.pem\Z")
#: what evidence.pdf states in its metadata (Keywords): the chain head and the event count
_REPORT_MARK = re.compile(rb"o2s-esign-evidence chain_head=([0-9a-f]{64}) event_count=([0-9]{1,9})")
GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "request", "sequence", "event_type", "date", "signer", "ip_address", "user_agent", "payload",
)
#: files an OS may drop into an unpacked folder; ignored (reported as INFO) in folder mode
OS_LITTER = (".DS_Store", "Thumbs.db", "desktop.ini")
CHUNK = 1 << 20
MAX_MEMBER = 4 << 30          # largest file hashed (bytes)
MAX_JSON = 256 << 20          # largest JSON file parsed
MAX_IN_MEMORY = 1 << 30       # largest PDF / seal loaded for pyHanko
MAX_ENTRIES = 100_000
_SAFE_PATH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}(/[A-Za-z0-9][A-Za-z0-9._-]{0,199})*\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_OID_TSTINFO = bytes.fromhex("2a864886f70d0109100104")   # 1.2.840.113549.1.9.16.1.4
_OID_SHA256 = bytes.fromhex("608648016503040201")        # 2.16.840.1.101.3.4.2.1


# --- canonical JSON and hash chain (same as o2s_esign/lib/chain.py) ---------------------------

def _check_value(value, path="$"):
    if value is None or isinstance(value, (bool, str, int)):
        return
    if isinstance(value, float):
        raise TypeError("float at " + path)
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("non-string key at " + path)
            _check_value(item, path + "." + key)
        return
    raise TypeError(f"unsupported type {type(value).__name__} at {path}")


def canonical_json(obj):
    """Sorted keys, no spaces, UTF-8, no NaN; str/int/bool/None/list/dict only."""
    _check_value(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def compute_hash(previous_hash, event):
    """sha256(previous_hash + canonical_json(hashed fields of event)), hex."""
    if not isinstance(previous_hash, str) or not _HEX64.match(previous_hash):
        raise ValueError("bad previous hash")
    body = {field: event[field] for field in HASHED_FIELDS}
    return hashlib.sha256(previous_hash.encode("ascii") + canonical_json(body)).hexdigest()


def walk_chain(events):
    """Return (ok, head, position_of_first_break, reason) for a list of events."""
    if not events:
        return False, GENESIS_HASH, None, "empty"
    previous = GENESIS_HASH
    for position, event in enumerate(events, start=1):
        sequence = event.get("sequence") if isinstance(event, dict) else None
        if type(sequence) is not int or sequence != position:
            return False, previous, position, "sequence_gap"
        if event.get("previous_hash") != previous:
            return False, previous, position, "previous_hash_mismatch"
        try:
            expected = compute_hash(previous, event)
        except (KeyError, TypeError, ValueError, RecursionError):
            expected = None
        if expected is None or event.get("hash") != expected:
            return False, previous, position, "hash_mismatch"
        previous = expected
    return True, previous, None, None


# --- small helpers ----------------------------------------------------------------------------

def safe_path(name):
    """True for a plain relative path made of [A-Za-z0-9._-] segments not starting with '.'."""
    return isinstance(name, str) and len(name) <= 1024 and bool(_SAFE_PATH.match(name))


def pem_blocks(data):
    """DER certificates of a PEM file (stdlib)."""
    text = data.decode("ascii", "replace")
    found = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.DOTALL)
    result = []
    for body in found:
        try:
            result.append(base64.b64decode("".join(body.split()), validate=True))
        except ValueError:
            continue
    return result


def pem_armor(der):
    """A DER certificate as PEM bytes."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
            + "\n-----END CERTIFICATE-----\n").encode("ascii")


def fingerprint(der):
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, 64, 2))


def normalise_fingerprint(text):
    """An SHA-256 fingerprint as printed (upper case, colons), from hex with or without colons
    or spaces; None when it is not 64 hex digits."""
    digits = re.sub(r"[\s:]", "", str(text or "")).upper()
    if not re.match(r"[0-9A-F]{64}\Z", digits):
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 64, 2))


def cert_is_self_signed(der):
    """True when the certificate's issuer and subject are the same name (stdlib DER walk)."""
    _tag, _constructed, start, end = der_read(der, 0)
    tbs = der_children(der, start, end)[0]
    fields = der_children(der, tbs[2], tbs[3])
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    issuer, subject = fields[2], fields[4]
    return der[issuer[2]:issuer[3]] == der[subject[2]:subject[3]]


def der_read(data, offset):
    """One DER TLV at offset: (tag, constructed, start, end). Raises ValueError."""
    if offset + 2 > len(data):
        raise ValueError("truncated")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers unsupported")
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated")
    return tag, bool(tag & 0x20), start, end


def der_children(data, start, end):
    children = []
    offset = start
    while offset < end:
        child = der_read(data, offset)
        children.append(child)
        offset = child[3]
    if offset != end:
        raise ValueError("overrun")
    return children


def find_tstinfo(data, start=0, end=None, depth=0):
    """(hash_oid_is_sha256, hashed_message, gen_time_text) of the TSTInfo inside a DER time-stamp
    token or response, found without a full ASN.1 library; None if absent."""
    end = len(data) if end is None else end
    if depth > 12:
        return None
    offset = start
    while offset < end:
        tag, constructed, vstart, vend = der_read(data, offset)
        if tag == 0x30:
            kids = der_children(data, vstart, vend)
            # EncapsulatedContentInfo ::= SEQUENCE { eContentType OID, [0] EXPLICIT OCTET STRING }
            if (len(kids) == 2 and kids[0][0] == 0x06
                    and data[kids[0][2]:kids[0][3]] == _OID_TSTINFO and kids[1][0] == 0xA0):
                octet = der_read(data, kids[1][2])
                if octet[0] != 0x04:
                    return None
                tst = der_children(data, octet[2], octet[3])
                tst_seq = der_read(data, octet[2]) if len(tst) == 1 else None
                if tst_seq is None or tst_seq[0] != 0x30:
                    return None
                fields = der_children(data, tst_seq[2], tst_seq[3])
                imprint = der_children(data, fields[2][2], fields[2][3])
                algo = der_children(data, imprint[0][2], imprint[0][3])
                is_sha256 = data[algo[0][2]:algo[0][3]] == _OID_SHA256
                hashed = data[imprint[1][2]:imprint[1][3]]
                gen_time = data[fields[4][2]:fields[4][3]].decode("ascii", "replace")
                return is_sha256, hashed, gen_time
        if constructed:
            found = find_tstinfo(data, vstart, vend, depth + 1)
            if found:
                return found
        offset = vend
    return None


def dos_datetime(moment):
    """(date, time) words of a datetime as stored in ZIP headers."""
    date = ((moment.year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return date, time


def parse_iso(text):
    """Parse the manifest's generated_at (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."""
    if not isinstance(text, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


# --- ZIP layout -------------------------------------------------------------------------------

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_CANONICAL_ATTR = 0o100644 << 16


def zip_layout_problems(path, expected_datetime=None):
    """Check the archive is exactly what the generator writes; list of problems (empty = ok).

    The rules: the first local header is at offset 0; each entry is a local header (no extra
    field, no flags) followed by its data, stored (not compressed, so every data byte is content
    that the CRC and the manifest's SHA-256 cover), then the next entry; the central directory
    follows the last entry and matches each local header field for field; the end record
    follows the central directory, has no comment and ends the file; names are plain relative
    paths; the external attributes are those of a regular 0644 file made on Unix; with
    ``expected_datetime``, every entry carries that date and time.
    """
    problems = []
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if size < _EOCD.size:
            return ["too short to be a ZIP"]
        fh.seek(size - _EOCD.size)
        eocd = _EOCD.unpack(fh.read(_EOCD.size))
        (sig, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len) = eocd
        if sig != 0x06054B50:
            return ["the end record is not at the very end (trailing data or a comment)"]
        if disk or cd_disk or n_disk != n_total or comment_len:
            problems.append("unexpected end record fields")
        if cd_offset + cd_size != size - _EOCD.size:
            problems.append("data between the central directory and the end record")
        if n_total > MAX_ENTRIES or cd_size > 64 << 20:
            return problems + ["too many entries"]
        fh.seek(cd_offset)
        central = fh.read(cd_size)
        entries = []
        position = 0
        for _ in range(n_total):
            if position + _CENTRAL.size > len(central):
                problems.append("central directory truncated")
                break
            fields = _CENTRAL.unpack_from(central, position)
            (sig, made_by, needed, flags, method, mtime, mdate, crc, csize, usize, name_len,
             extra_len, comment_len, disk_start, int_attr, ext_attr, offset) = fields
            name = central[position + _CENTRAL.size:position + _CENTRAL.size + name_len]
            position += _CENTRAL.size + name_len + extra_len + comment_len
            label = name.decode("utf-8", "replace")
            if sig != 0x02014B50:
                problems.append("bad central directory signature")
                break
            if made_by != (3 << 8) | needed or extra_len or comment_len or disk_start \
                    or int_attr or ext_attr != _CANONICAL_ATTR:
                problems.append(f"{label}: unexpected central directory fields")
            if flags or method or csize != usize:
                problems.append(f"{label}: unexpected flags or compression")
            if expected_datetime is not None and (mdate, mtime) != expected_datetime:
                problems.append(f"{label}: date differs from the manifest's generation time")
            entries.append((offset, needed, flags, method, mtime, mdate, crc, csize, usize,
                            name, label))
        if position != len(central):
            problems.append("unexpected bytes in the central directory")
        expected_offset = 0
        for (offset, needed, flags, method, mtime, mdate, crc, csize, usize, name,
             label) in entries:
            if offset != expected_offset:
                problems.append(f"{label}: not contiguous with the previous entry")
                break
            fh.seek(offset)
            header = fh.read(_LOCAL.size)
            if len(header) != _LOCAL.size:
                problems.append(f"{label}: local header truncated")
                break
            (sig, l_needed, l_flags, l_method, l_mtime, l_mdate, l_crc, l_csize, l_usize,
             l_name_len, l_extra_len) = _LOCAL.unpack(header)
            l_name = fh.read(l_name_len)
            want = (0x04034B50, needed, flags, method, mtime, mdate, crc, csize, usize,
                    len(name), 0)
            got = (sig, l_needed, l_flags, l_method, l_mtime, l_mdate, l_crc, l_csize, l_usize,
                   l_name_len, l_extra_len)
            if got != want or l_name != name:
                problems.append(f"{label}: local header differs from the central directory")
                break
            expected_offset = offset + _LOCAL.size + len(name) + csize
        else:
            if expected_offset != cd_offset:
                problems.append("data between the last entry and the central directory")
    return problems


# --- sources: a ZIP or a folder ---------------------------------------------------------------

class SourceError(Exception):
    pass


#: what reading a damaged or hostile entry may raise; always reported as a failed check
READ_ERRORS = (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, RecursionError,
               MemoryError, zipfile.BadZipFile, zlib.error, struct.error, SourceError)


class ZipSource:
    """Read members of the ZIP as received; nothing is written to disk."""

    kind = "zip"

    def __init__(self, path):
        self.path = path
        try:
            self.zf = zipfile.ZipFile(path)
        except READ_ERRORS as exc:
            raise SourceError(f"not a readable ZIP: {exc}") from None
        self.infos = {}
        self.problems = []
        infos = self.zf.infolist()
        if len(infos) > MAX_ENTRIES:
            self.problems.append("too many entries")
            infos = infos[:MAX_ENTRIES]
        for info in infos:
            name = info.filename
            mode = (info.external_attr >> 16) & 0o170000
            if not safe_path(name):
                self.problems.append(f"unsafe entry name {name!r}")
            elif name in self.infos:
                self.problems.append(f"duplicate entry {name!r}")
            elif info.is_dir() or mode not in (0, stat.S_IFREG):
                self.problems.append(f"entry {name!r} is not a regular file")
            elif info.flag_bits & 0x1:
                self.problems.append(f"entry {name!r} is encrypted")
            else:
                self.infos[name] = info

    def names(self):
        return set(self.infos)

    def size(self, name):
        return self.infos[name].file_size

    def open(self, name):
        return self.zf.open(self.infos[name])

    def close(self):
        self.zf.close()


class DirSource:
    """Read files of an unpacked folder; links and special files are refused."""

    kind = "folder"

    def __init__(self, path):
        self.root = os.path.abspath(path)
        if not os.path.isfile(os.path.join(self.root, MANIFEST)):
            raise SourceError(f"no manifest.json in {self.root}: not an evidence folder")
        self.files = {}
        self.problems = []
        self.ignored = []
        for current, dirs, files in os.walk(self.root, followlinks=False):
            rel_dir = os.path.relpath(current, self.root)
            for name in list(dirs):
                if os.path.islink(os.path.join(current, name)):
                    self.problems.append(f"link {os.path.join(rel_dir, name)!r}")
                    dirs.remove(name)
                elif name == "__MACOSX":
                    self.ignored.append(os.path.normpath(os.path.join(rel_dir, name)))
                    dirs.remove(name)
            for name in files:
                full = os.path.join(current, name)
                rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
                mode = os.lstat(full).st_mode
                if name in OS_LITTER:
                    self.ignored.append(rel)
                elif stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
                    self.problems.append(f"{rel!r} is a link or not a regular file")
                elif not safe_path(rel):
                    self.problems.append(f"unsafe file name {rel!r}")
                else:
                    self.files[rel] = full
                if len(self.files) + len(self.problems) > MAX_ENTRIES:
                    raise SourceError("too many files")

    def names(self):
        return set(self.files)

    def size(self, name):
        return os.lstat(self.files[name]).st_size

    def open(self, name):
        full = self.files[name]
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        return os.fdopen(os.open(full, flags), "rb")

    def close(self):
        pass


# --- the verifier -----------------------------------------------------------------------------

class Verifier:
    """Run every check on an evidence ZIP or folder and print one line per check."""

    def __init__(self, path, *, use_pyhanko=True, trust=(), strict=False, online=False,
                 out=None, trust_certs=(), ca_fingerprints=()):
        """``trust``: paths of PEM files (--trust); ``trust_certs``: DER certificates given by
        a calling program (same meaning); ``ca_fingerprints``: --ca-fingerprint values."""
        self.path = path
        self.use_pyhanko = use_pyhanko
        self.extra_trust = list(trust)
        self.trust_ders = [bytes(der) for der in trust_certs]   # --trust certificates (DER)
        self.ca_fingerprints = list(ca_fingerprints)
        self.company_ca_der = None    # certificates/company-ca.pem, once checked
        self.company_ca_trusted = False
        self.seal_der = None          # certificates/company-seal.pem
        self._trust_files_read = None
        self.strict = strict
        self.online = online
        self.out = out or sys.stdout
        self.results = []
        self.source = None
        self.manifest = None
        self.hashes = {}          # path -> sha256 actually computed
        self.ph = None            # pyHanko namespace when importable
        self.ph_problem = None

    # output
    def report(self, status, name, detail="", *, weakens=False):
        """One check's line. A SKIP that ``weakens`` the conclusion fails under --strict."""
        if status == "SKIP" and weakens and self.strict:
            status = "FAIL"
            detail += " (--strict)"
        self.results.append((status, name, detail))
        line = f"{status:<5} {name}"
        if detail:
            line += "  " + detail
        print(line, file=self.out)

    def info(self, detail):
        print("INFO  " + detail, file=self.out)

    @property
    def failed(self):
        return [name for status, name, _ in self.results if status == "FAIL"]

    # reading
    def read_all(self, name, limit):
        if self.source.size(name) > limit:
            raise SourceError(f"{name} is too large")
        with self.source.open(name) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise SourceError(f"{name} is too large")
        return data

    def sha256_of(self, name):
        if name in self.hashes:
            return self.hashes[name]
        if self.source.size(name) > MAX_MEMBER:
            raise SourceError("too large")
        digest = hashlib.sha256()
        read = 0
        with self.source.open(name) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                read += len(chunk)
                if read > MAX_MEMBER:
                    raise SourceError("too large")
                digest.update(chunk)
        self.hashes[name] = digest.hexdigest()
        return self.hashes[name]

    def load_json(self, name):
        return json.loads(self.read_all(name, MAX_JSON).decode("utf-8"))

    # driver
    def run(self):
        print(f"o2s-esign evidence verifier {VERSION}: {self.path}", file=self.out)
        try:
            self._run()
        finally:
            if self.source is not None:
                self.source.close()
        failed = self.failed
        skipped = sum(1 for status, _, _ in self.results if status == "SKIP")
        passed = sum(1 for status, _, _ in self.results if status == "PASS")
        if failed:
            print(f"RESULT: FAIL ({len(failed)} failed): {', '.join(failed)}", file=self.out)
            return 1
        print(f"RESULT: PASS ({passed} passed, {skipped} skipped)", file=self.out)
        return 0

    def _run(self):
        path = self.path
        if os.path.isdir(path):
            source_class = DirSource
        elif os.path.isfile(path):
            source_class = ZipSource
        else:
            self.report("FAIL", "input", f"{path}: no such file or folder")
            return
        try:
            self.source = source_class(path)
        except SourceError as exc:
            self.report("FAIL", "input", str(exc))
            return
        except OSError as exc:
            self.report("FAIL", "input", f"cannot read: {exc}")
            return
        self.info(f"mode: {self.source.kind}")
        steps = [("manifest", self.check_manifest), ("zip_structure", self.check_zip_structure),
                 ("entries", self.check_entries), ("files_complete", self.check_files),
                 ("company_ca", self.check_company_ca),
                 ("certificates", self.check_certificate_files),
                 ("chain", self.check_chain), ("evidence_report", self.check_report),
                 ("documents", self.check_prefixes), ("sources", self.check_sources),
                 ("pyhanko", self.load_pyhanko), ("manifest_timestamp", self.check_timestamp),
                 ("manifest_seal", self.check_seal), ("pdf_signatures", self.check_pdfs),
                 ("key_proofs", self.check_key_proofs)]
        for name, step in steps:
            if self.manifest is None and name == "files_complete":
                return
            try:
                step()
            except Exception as exc:  # a hostile input must not crash the run
                self.report("FAIL", name, f"unexpected error: {type(exc).__name__}: {exc}")

    # --- stdlib checks
    def check_manifest(self):
        if MANIFEST not in self.source.names():
            self.report("FAIL", "manifest", "manifest.json is missing")
            return
        try:
            manifest = self.load_json(MANIFEST)
        except READ_ERRORS as exc:
            self.report("FAIL", "manifest", f"unreadable: {exc}")
            return
        problems = []
        if not isinstance(manifest, dict):
            self.report("FAIL", "manifest", "not a JSON object")
            return
        if manifest.get("format") != FORMAT:
            problems.append(f"format is not {FORMAT}")
        if manifest.get("hash_algorithm") != "sha256":
            problems.append("hash_algorithm is not sha256")
        files = manifest.get("files")
        if not isinstance(files, dict) or not files:
            problems.append("no file list")
        else:
            for name, digest in files.items():
                if not safe_path(name) or name in SEAL_FILES:
                    problems.append(f"unsafe or reserved path {name!r}")
                elif not isinstance(digest, str) or not _HEX64.match(digest):
                    problems.append(f"bad hash for {name}")
        if parse_iso(manifest.get("generated_at")) is None:
            problems.append("bad generated_at")
        if problems:
            self.report("FAIL", "manifest", "; ".join(problems[:5]))
            return
        self.manifest = manifest
        request = manifest.get("request") or {}
        reference = request.get("reference", "?") if isinstance(request, dict) else "?"
        self.report("PASS", "manifest", f"{FORMAT}, request {reference}, generated "
                    f"{manifest['generated_at']}, {len(files)} files")

    def check_zip_structure(self):
        if self.source.kind != "zip":
            self.report("SKIP", "zip_structure", "not a ZIP (unpacked folder)")
            return
        expected = None
        if self.manifest is not None:
            moment = parse_iso(self.manifest["generated_at"])
            if moment.year >= 1980:
                expected = dos_datetime(moment)
        try:
            problems = zip_layout_problems(self.path, expected)
        except READ_ERRORS as exc:
            problems = [f"unreadable: {exc}"]
        # the seal files are not hashed in the manifest: read them through to check their CRC
        for name in (MANIFEST_SEAL, MANIFEST_TSR):
            if name in self.source.names():
                try:
                    with self.source.open(name) as fh:
                        while fh.read(CHUNK):
                            pass
                except READ_ERRORS as exc:
                    problems.append(f"{name}: {exc}")
        if problems:
            self.report("FAIL", "zip_structure", "; ".join(problems[:3]) + " (not the archive "
                        "as generated: changed, or re-packed by another tool)")
        else:
            self.report("PASS", "zip_structure", f"canonical layout, {len(self.source.infos)} entries")

    def check_entries(self):
        for ignored in getattr(self.source, "ignored", ()):
            self.info(f"ignored {ignored} (operating system file)")
        if self.source.problems:
            self.report("FAIL", "entries", "; ".join(self.source.problems[:5]))
        else:
            self.report("PASS", "entries", f"{len(self.source.names())} files, all plain relative "
                        "paths")

    def check_files(self):
        listed = set(self.manifest["files"])
        present = self.source.names() - set(SEAL_FILES)
        missing = sorted(listed - present)
        extra = sorted(present - listed)
        if missing or extra:
            detail = []
            if missing:
                detail.append("missing: " + ", ".join(missing[:10]))
            if extra:
                detail.append("not in manifest: " + ", ".join(extra[:10]))
            self.report("FAIL", "files_complete", "; ".join(detail))
        else:
            self.report("PASS", "files_complete", f"{len(listed)} files listed, all present")
        for name in sorted(listed):
            check = "hash:" + name
            if name not in present:
                self.report("FAIL", check, "file missing")
                continue
            try:
                actual = self.sha256_of(name)
            except READ_ERRORS as exc:
                self.report("FAIL", check, f"unreadable: {exc}")
                continue
            if actual != self.manifest["files"][name]:
                self.report("FAIL", check, "sha256 {}, manifest says {}".format(
                    actual, self.manifest["files"][name]))
            else:
                self.report("PASS", check, actual)

    def _trust_file_ders(self):
        """DER certificates of the --trust files (a file that cannot be read fails 'trust')."""
        if self._trust_files_read is None:
            ders = list(self.trust_ders)
            for path in self.extra_trust:
                try:
                    with open(path, "rb") as fh:
                        found = pem_blocks(fh.read(1 << 20))
                except OSError as exc:
                    self.report("FAIL", "trust", f"cannot read {path}: {exc}")
                    continue
                if not found:
                    self.report("FAIL", "trust", f"{path}: no PEM certificate")
                ders += found
            self._trust_files_read = ders
        return self._trust_files_read

    def _listed_certificate(self, name):
        """The DER certificates of a listed certificate file ([] when absent or unreadable)."""
        if name not in self.manifest["files"] or name not in self.source.names():
            return []
        return pem_blocks(self.read_all(name, 1 << 20))

    def check_company_ca(self):
        """certificates/company-ca.pem: one certificate, its fingerprint printed, and pinned
        when --ca-fingerprint or --trust is given."""
        ders = self._listed_certificate(COMPANY_CA)
        pins = set()
        for text in self.ca_fingerprints:
            value = normalise_fingerprint(text)
            if value is None:
                self.report("FAIL", "trust", f"--ca-fingerprint {text!r} is not a SHA-256 "
                            "fingerprint (64 hexadecimal digits)")
            else:
                pins.add(value)
        pins.update(fingerprint(der) for der in self._trust_file_ders())
        if len(ders) != 1:
            self.report("FAIL", "company_ca", f"{COMPANY_CA} is missing or does not hold "
                        "exactly one certificate")
            return
        der = ders[0]
        self.company_ca_der = der
        value = fingerprint(der)
        self.info(f"company CA {COMPANY_CA} SHA-256 {value}")
        if not pins:
            self.company_ca_trusted = True
            self.report("PASS", "company_ca", f"SHA-256 {value}: compare it with the "
                        "fingerprint your company publishes (or pin it: --ca-fingerprint)")
        elif value in pins:
            self.company_ca_trusted = True
            self.report("PASS", "company_ca", f"SHA-256 {value}, as pinned")
        else:
            self.report("FAIL", "company_ca", f"SHA-256 {value} is not the pinned certificate "
                        "(--ca-fingerprint / --trust): not trusted")

    def check_certificate_files(self):
        """Only the certificate files the generator writes, each parseable; one certificate in
        company-ca.pem and company-seal.pem; tsa-root* self-signed."""
        problems = []
        names = sorted(n for n in self.manifest["files"] if n.startswith("certificates/"))
        for name in names:
            if not _CERT_FILE.match(name):
                problems.append(f"unexpected certificate file {name}")
                continue
            try:
                ders = self._listed_certificate(name)
                self_signed = [cert_is_self_signed(der) for der in ders]
            except READ_ERRORS as exc:
                problems.append(f"{name}: unreadable ({exc})")
                continue
            except (IndexError, ValueError):
                problems.append(f"{name}: not a certificate")
                continue
            if not ders:
                problems.append(f"{name}: no certificate")
            elif name in (COMPANY_CA, COMPANY_SEAL) and len(ders) != 1:
                problems.append(f"{name}: {len(ders)} certificates, one expected")
            elif _TSA_ROOT_FILE.match(name) and not all(self_signed):
                problems.append(f"{name}: a time-stamping authority root must be self-signed")
            if name == COMPANY_SEAL and len(ders) == 1:
                self.seal_der = ders[0]
        if problems:
            self.report("FAIL", "certificates", "; ".join(problems[:5]))
        else:
            self.report("PASS", "certificates", f"{len(names)} certificate files, all expected")

    def check_report(self):
        """evidence.pdf names the manifest's chain head and event count (its metadata); every
        occurrence of the statement must agree (an appended revision cannot restate it)."""
        if EVIDENCE_REPORT not in self.manifest["files"] or EVIDENCE_REPORT not in self.source.names():
            self.report("FAIL", "evidence_report", f"{EVIDENCE_REPORT} is missing")
            return
        data = self.read_all(EVIDENCE_REPORT, MAX_IN_MEMORY)
        found = {(head.decode("ascii"), int(count)) for head, count in _REPORT_MARK.findall(data)}
        expected = (self.manifest.get("chain_head"), self.manifest.get("event_count"))
        if not found:
            self.report("SKIP", "evidence_report", f"{EVIDENCE_REPORT} does not state its chain "
                        "head (evidence built before verify.py 2)", weakens=True)
        elif found != {expected}:
            stated = ", ".join(f"{count} events ending {head}" for head, count in sorted(found))
            self.report("FAIL", "evidence_report", f"{EVIDENCE_REPORT} states {stated}; the "
                        f"manifest {expected[1]} events ending {expected[0]} (a report of "
                        "another trail)")
        else:
            self.report("PASS", "evidence_report", f"{EVIDENCE_REPORT} states the manifest's "
                        f"{expected[1]} events ending {expected[0]}")

    def check_chain(self):
        name = "audit_trail.json"
        try:
            audit = self.load_json(name) if name in self.source.names() else None
        except READ_ERRORS as exc:
            self.report("FAIL", "chain", f"audit_trail.json unreadable: {exc}")
            self.report("FAIL", "chain_head", "no audit trail")
            return
        if not isinstance(audit, dict) or audit.get("format") != AUDIT_FORMAT \
                or not isinstance(audit.get("events"), list):
            self.report("FAIL", "chain", f"audit_trail.json missing or not {AUDIT_FORMAT}")
            self.report("FAIL", "chain_head", "no audit trail")
            return
        events = audit["events"]
        self.audit_events = events
        ok, head, position, reason = walk_chain(events)
        if ok:
            self.report("PASS", "chain", f"{len(events)} events, head {head}")
        else:
            where = f" at event {position}" if position else ""
            self.report("FAIL", "chain", f"{reason}{where}")
        manifest_head = self.manifest.get("chain_head")
        count = self.manifest.get("event_count")
        if not ok:
            self.report("FAIL", "chain_head", "the chain itself is broken")
        elif manifest_head != head or count != len(events):
            self.report("FAIL", "chain_head", f"manifest says {count} events ending {manifest_head}; "
                        f"audit trail has {len(events)} ending {head}")
        else:
            self.report("PASS", "chain_head", f"manifest anchors {count} events ending {head}")

    def _prefix_ok(self, original, signed):
        size = self.source.size(original)
        if self.source.size(signed) < size:
            return False
        with self.source.open(original) as a, self.source.open(signed) as b:
            left = size
            while left > 0:
                chunk = a.read(min(CHUNK, left))
                if not chunk or b.read(len(chunk)) != chunk:
                    return False
                left -= len(chunk)
        return True

    def check_prefixes(self):
        documents = self.manifest.get("documents") or []
        if not isinstance(documents, list):
            self.report("FAIL", "documents", "manifest documents is not a list")
            return
        names = self.source.names()
        for document in documents:
            if not isinstance(document, dict) or not document.get("signed") \
                    or not document.get("original_is_prefix"):
                continue
            original, signed = document.get("original"), document["signed"]
            check = f"original_prefix:{signed}"
            if original not in names or signed not in names:
                self.report("FAIL", check, "file missing")
                continue
            try:
                ok = self._prefix_ok(original, signed)
            except READ_ERRORS as exc:
                self.report("FAIL", check, f"unreadable: {exc}")
                continue
            if ok:
                self.report("PASS", check, f"starts with {original} (signatures only appended)")
            else:
                self.report("FAIL", check, f"does not start with the bytes of {original}")

    def check_sources(self):
        """A document made from an uploaded file (converted, neutralised, repaired...) names
        that file: it must be listed in the manifest with the SHA-256 the document states (the
        file's own hash is checked with the others, in files_complete)."""
        documents = self.manifest.get("documents") or []
        if not isinstance(documents, list):
            return
        files = self.manifest["files"]
        for document in documents:
            source = document.get("source") if isinstance(document, dict) else None
            if source is None:
                continue
            if not isinstance(source, dict) or not isinstance(source.get("file"), str):
                self.report("FAIL", f"source:{document.get('original')}", "malformed entry")
                continue
            check = f"source:{source['file']}"
            if source["file"] not in files:
                self.report("FAIL", check, "uploaded file not listed in the manifest")
            elif files[source["file"]] != source.get("sha256"):
                self.report("FAIL", check, "sha256 differs from the manifest's file list")
            elif not isinstance(source.get("removed", []), list):
                self.report("FAIL", check, "removed is not a list")
            else:
                done = ", ".join(filter(None, [
                    source.get("kind") != "pdf" and f"converted from {source.get('kind')}",
                    source.get("removed") and "removed: " + ", ".join(map(str, source["removed"])),
                    source.get("repaired") and "repaired", source.get("decrypted") and "decrypted",
                ])) or "as uploaded"
                self.report("PASS", check, f"uploaded file of {document.get('original')} "
                            f"({done})")

    # --- pyHanko checks
    def load_pyhanko(self):
        if not self.use_pyhanko:
            self.ph_problem = "disabled by --no-pyhanko"
            return
        try:
            import asyncio  # noqa: F401

            from asn1crypto import cms, pem, tsp, x509
            from pyhanko.pdf_utils.reader import PdfFileReader
            from pyhanko.sign import validation
            from pyhanko_certvalidator import ValidationContext
        except Exception as exc:  # any import problem means "not available"
            self.ph_problem = f"pyHanko is not available ({type(exc).__name__}: {exc})"
            return

        class NS:
            pass

        # pyHanko logs validation problems with tracebacks; the checks report them instead
        for logger_name in ("pyhanko", "pyhanko_certvalidator"):
            quiet = logging.getLogger(logger_name)
            quiet.addHandler(logging.NullHandler())
            quiet.propagate = False
        ns = NS()
        ns.cms, ns.pem, ns.tsp, ns.x509 = cms, pem, tsp, x509
        ns.PdfFileReader, ns.validation, ns.ValidationContext = (
            PdfFileReader, validation, ValidationContext)
        self.ph = ns
        self.load_certificates()

    def load_certificates(self):
        """The trust anchors, never taken from the file alone: certificates/company-ca.pem
        (unless pinning rejected it) and the --trust certificates for signatures and seals;
        for time-stamp tokens, also the self-signed certificates/tsa-root*.pem."""
        ph = self.ph
        self.anchors, self.tsa_anchors, self.other_certs = [], [], []
        seen = set()

        def load(der):
            if der in seen:
                return None
            seen.add(der)
            try:
                cert = ph.x509.Certificate.load(der)
                _ = cert.native  # forces a full parse
            except Exception:  # unparsable certificate: ignore it
                return None
            return cert

        blobs = [("--trust", der) for der in self._trust_file_ders()]
        if self.company_ca_trusted and self.company_ca_der:
            blobs.insert(0, (COMPANY_CA, self.company_ca_der))
        for name, der in blobs:
            cert = load(der)
            if cert is not None:
                self.anchors.append(cert)
                self.info(f"trust anchor {name}: {cert.subject.human_friendly}, SHA-256 {fingerprint(der)}")
        self.tsa_anchors = list(self.anchors)
        names = sorted(n for n in self.source.names() if _CERT_FILE.match(n)
                       and n in self.manifest["files"] and n != COMPANY_CA)
        for name in names:
            try:
                ders = pem_blocks(self.read_all(name, 1 << 20))
            except READ_ERRORS:
                continue
            for der in ders:
                cert = load(der)
                if cert is None:
                    continue
                if _TSA_ROOT_FILE.match(name) and cert.self_signed in ("maybe", "yes"):
                    self.tsa_anchors.append(cert)
                    self.info(f"time-stamping authority root {name} (for time-stamps only): "
                              f"{cert.subject.human_friendly}, SHA-256 {fingerprint(der)}")
                else:
                    self.other_certs.append(cert)

    def context(self, moment=None, *, timestamps=False):
        """A validation context: signatures and seals chain to ``anchors``; time-stamp tokens
        (``timestamps``) to ``tsa_anchors``."""
        roots = self.tsa_anchors if timestamps else self.anchors
        kwargs = {"trust_roots": list(roots), "other_certs": list(self.other_certs),
                  "allow_fetching": self.online and moment is None,
                  "revocation_mode": "soft-fail"}
        if moment is not None:
            kwargs["moment"] = moment
            kwargs["retroactive_revinfo"] = True
        return self.ph.ValidationContext(**kwargs)

    def skip_reason(self):
        return f"{self.ph_problem}; signature not checked (install pyHanko: pip install pyhanko)"

    def check_timestamp(self):
        names = self.source.names()
        expected = bool(self.manifest.get("manifest_timestamp"))
        if MANIFEST_TSR not in names:
            if expected:
                self.report("FAIL", "manifest_timestamp", f"{MANIFEST_TSR} is missing")
            else:
                self.report("SKIP", "manifest_timestamp", "no time-stamping authority was "
                            "configured (manifest not time-stamped: no trusted time)",
                            weakens=True)
            return
        try:
            token = self.read_all(MANIFEST_TSR, 1 << 20)
            manifest_bytes = self.read_all(MANIFEST, MAX_JSON)
            found = find_tstinfo(token)
        except READ_ERRORS as exc:
            self.report("FAIL", "manifest_timestamp", f"unreadable token: {exc}")
            return
        digest = hashlib.sha256(manifest_bytes).digest()
        if not found or not found[0] or found[1] != digest:
            self.report("FAIL", "manifest_timestamp", "the token's message imprint is not "
                        "SHA-256(manifest.json)")
            return
        if self.ph is None:
            self.report("SKIP", "manifest_timestamp",
                        f"imprint matches (time {found[2]}); {self.skip_reason()}",
                        weakens=True)
            return
        try:
            status = self._validate_token(token, digest)
        except Exception as exc:  # report any validation error as a failure
            self.report("FAIL", "manifest_timestamp", f"validation error: {exc}")
            return
        if status.get("intact") and status.get("valid") and status.get("trusted"):
            self.report("PASS", "manifest_timestamp", "time {}, TSA {}".format(
                status.get("timestamp"), status.get("tsa")))
        else:
            self.report("FAIL", "manifest_timestamp", "intact={} valid={} trusted={}".format(
                status.get("intact"), status.get("valid"), status.get("trusted")))

    def _validate_token(self, token, digest):
        import asyncio

        from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
        from pyhanko.sign.validation.status import TimestampSignatureStatus
        ph = self.ph
        # a TimeStampResp starts with its status SEQUENCE, a token (ContentInfo) with an OID
        outer = der_read(token, 0)
        first = der_read(token, outer[2])
        if first[0] == 0x30:
            response = ph.tsp.TimeStampResp.load(token)
            if response["status"]["status"].native not in ("granted", "granted_with_mods"):
                raise ValueError("the time-stamp response is not granted")
            info = response["time_stamp_token"]
        else:
            info = ph.cms.ContentInfo.load(token)
        if info["content_type"].native != "signed_data":
            raise ValueError("not a time-stamp token")
        signed_data = info["content"]
        tst = signed_data["encap_content_info"]["content"].parsed
        moment = tst["gen_time"].native
        def run(context):
            kwargs = asyncio.run(validate_tst_signed_data(signed_data, context,
                                                          lambda algo: digest))
            return TimestampSignatureStatus(**kwargs)

        status = run(self.context(timestamps=True))
        if not status.trusted and self.tsa_anchors:
            status = run(self.context(moment, timestamps=True))
        return {"intact": status.intact, "valid": status.valid, "trusted": status.trusted,
                "timestamp": moment, "tsa": status.signing_cert.subject.human_friendly}

    def check_seal(self):
        if MANIFEST_SEAL not in self.source.names():
            self.report("FAIL", "manifest_seal", f"{MANIFEST_SEAL} is missing")
            return
        if self.ph is None:
            self.report("SKIP", "manifest_seal", self.skip_reason(), weakens=True)
            return
        import asyncio
        try:
            seal = self.read_all(MANIFEST_SEAL, 1 << 20)
            manifest_bytes = self.read_all(MANIFEST, MAX_JSON)
            info = self.ph.cms.ContentInfo.load(seal)
            signed_data = info["content"]
            validate = self.ph.validation.async_validate_detached_cms
            status = asyncio.run(validate(
                manifest_bytes, signed_data, signer_validation_context=self.context(),
                ts_validation_context=self.context(timestamps=True)))
            if not (status.trusted and self._ts_ok(status)):
                moment = self._best_time(status)
                if moment is not None:
                    status = asyncio.run(validate(
                        manifest_bytes, signed_data,
                        signer_validation_context=self.context(moment),
                        ts_validation_context=self.context(moment, timestamps=True)))
        except Exception as exc:  # report any validation error as a failure
            self.report("FAIL", "manifest_seal", f"cannot validate: {exc}")
            return
        signer = status.signing_cert.subject.human_friendly
        if not (status.intact and status.valid):
            self.report("FAIL", "manifest_seal", f"intact={status.intact} valid={status.valid} ({signer})")
        elif self.seal_der is None or status.signing_cert.dump() != self.seal_der:
            self.report("FAIL", "manifest_seal", f"sealed by {signer}, not by the company seal "
                        f"certificate ({COMPANY_SEAL})")
        elif not status.trusted:
            self.report("FAIL", "manifest_seal", f"signed by {signer}, not trusted ({status.trust_problem_indic})")
        elif not self._ts_ok(status):
            self.report("FAIL", "manifest_seal", "signature time-stamp invalid or untrusted")
        else:
            when = status.timestamp_validity.timestamp if status.timestamp_validity else None
            self.report("PASS", "manifest_seal", "sealed by {}{}".format(
                signer, f", time-stamped {when}" if when else ""))

    @staticmethod
    def _ts_ok(status):
        ts = getattr(status, "timestamp_validity", None)
        return ts is None or (ts.intact and ts.valid and ts.trusted)

    @staticmethod
    def _best_time(status):
        ts = getattr(status, "timestamp_validity", None)
        if ts is not None and ts.intact and ts.valid:
            return ts.timestamp
        return getattr(status, "signer_reported_dt", None)

    def check_key_proofs(self):
        """Signatures made with a key generated in the signer's browser (event ``signed`` with
        ``key_mode`` "browser"): the proof of possession must verify (ECDSA P-256/SHA-256 over
        its challenge) and the certificate that signed the PDFs (``certificate_sha256`` of
        the signer's ``document_signature`` events) must carry exactly the proof's key."""
        events = [e for e in getattr(self, "audit_events", None) or [] if isinstance(e, dict)]
        proofs = [(event, event["payload"]) for event in events
                  if event.get("event_type") == "signed" and isinstance(event.get("payload"), dict)
                  and event["payload"].get("key_mode") == "browser"]
        if not proofs:
            return
        if self.ph is None:
            self.report("SKIP", "key_proofs", self.skip_reason(), weakens=True)
            return
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        certs = {}
        for name in sorted(n for n in self.manifest["files"] if n.startswith("signed/")
                           and n.endswith(".pdf") and n in self.source.names()):
            reader = self.ph.PdfFileReader(io.BytesIO(self.read_all(name, MAX_IN_MEMORY)),
                                           strict=False)
            for embedded in reader.embedded_signatures:
                cert = embedded.signer_cert
                if cert is not None:
                    certs[hashlib.sha256(cert.dump()).hexdigest()] = cert
        problems = []
        for event, payload in proofs:
            who = f"event {event.get('sequence')}"
            proof = payload.get("key_proof") if isinstance(payload.get("key_proof"), dict) else {}
            try:
                spki = base64.b64decode(proof.get("public_key") or "", validate=True)
                challenge = base64.b64decode(proof.get("challenge") or "", validate=True)
                value = base64.b64decode(proof.get("signature") or "", validate=True)
                key = serialization.load_der_public_key(spki)
                if len(value) == 64:
                    value = utils.encode_dss_signature(int.from_bytes(value[:32], "big"),
                                                       int.from_bytes(value[32:], "big"))
                key.verify(value, challenge, ec.ECDSA(hashes.SHA256()))
            except (ValueError, TypeError, InvalidSignature, AttributeError):
                problems.append(f"{who}: the proof of possession does not verify")
                continue
            if hashlib.sha256(spki).hexdigest() != payload.get("public_key_sha256"):
                problems.append(f"{who}: public_key_sha256 is not the proof's key")
            steps = [e["payload"] for e in events
                     if e.get("event_type") == "document_signature"
                     and e.get("signer") == event.get("signer")
                     and isinstance(e.get("payload"), dict)
                     and e["payload"].get("key_mode") == "browser"]
            if not steps:
                problems.append(f"{who}: no document signature of this signer")
            for step in steps:
                cert = certs.get(step.get("certificate_sha256"))
                if cert is None:
                    problems.append(f"{who}: its certificate is in no signed PDF")
                elif cert.public_key.dump() != spki:
                    problems.append(f"{who}: the certificate's key is not the proof's key")
        if problems:
            self.report("FAIL", "key_proofs", "; ".join(problems[:5]))
        else:
            self.report("PASS", "key_proofs", f"{len(proofs)} signature(s) by a key made in the "
                        "signer's browser: proof verifies, certificate carries that key")

    def check_pdfs(self):
        pdfs = sorted(n for n in self.manifest["files"] if n.endswith(".pdf")
                      and (n.startswith("signed/") or n == "evidence.pdf"))
        for name in pdfs:
            if name not in self.source.names():
                continue
            if self.ph is None:
                self.report("SKIP", "pdf_signatures:" + name, self.skip_reason(),
                            weakens=True)
                self.report("SKIP", "pdf_trust:" + name, "needs pyHanko", weakens=True)
                continue
            try:
                self.check_pdf(name)
            except Exception as exc:  # any parsing error is a failure
                self.report("FAIL", "pdf_signatures:" + name, f"cannot validate: {type(exc).__name__}: {exc}")
                self.report("FAIL", "pdf_trust:" + name, "not evaluated")

    def check_pdf(self, name):
        ph = self.ph
        data = self.read_all(name, MAX_IN_MEMORY)
        reader = ph.PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        if not signatures:
            self.report("FAIL", "pdf_signatures:" + name, "no signature found")
            self.report("FAIL", "pdf_trust:" + name, "no signature found")
            return
        integrity, trust, summary = [], [], []
        last = len(signatures) - 1
        for index, embedded in enumerate(signatures):
            label = embedded.field_name or f"#{index + 1}"
            is_doc_ts = embedded.sig_object_type == "/DocTimeStamp"
            status = self._validate_embedded(embedded, is_doc_ts)
            problems = []
            if not status.intact:
                problems.append("not intact")
            if not status.valid:
                problems.append("invalid signature")
            coverage = status.coverage.name if status.coverage is not None else "NONE"
            level = status.modification_level
            level_name = level.name if level is not None else "UNKNOWN"
            if coverage not in ("ENTIRE_FILE", "ENTIRE_REVISION") or level is None \
                    or level_name == "OTHER" or status.docmdp_ok is False:
                problems.append(f"disallowed changes after signing ({coverage}, {level_name})")
            elif index == last and level_name not in ("NONE", "LTA_UPDATES"):
                problems.append(f"changes after the last signature ({level_name})")
            ts = getattr(status, "timestamp_validity", None)
            if ts is not None and not (ts.intact and ts.valid):
                problems.append("signature time-stamp broken")
            if problems:
                integrity.append("{}: {}".format(label, ", ".join(problems)))
            who = status.signing_cert.subject.human_friendly
            if not status.trusted or (ts is not None and not ts.trusted):
                trust.append("{} ({}): {}".format(label, who, status.trust_problem_indic or
                                              "time-stamp not trusted"))
            elif name == EVIDENCE_REPORT and not is_doc_ts \
                    and status.signing_cert.dump() != self.seal_der:
                trust.append(f"{label} ({who}): not the company seal certificate ({COMPANY_SEAL})")
            kind = "doc-timestamp" if is_doc_ts else "signature"
            summary.append(f"{kind} {label}")
        count = len(signatures)
        if integrity:
            self.report("FAIL", "pdf_signatures:" + name, "; ".join(integrity))
        else:
            self.report("PASS", "pdf_signatures:" + name, f"{count} intact and valid: "
                        f"{', '.join(summary)}")
        if trust:
            self.report("FAIL", "pdf_trust:" + name, "; ".join(trust))
        else:
            self.report("PASS", "pdf_trust:" + name, f"{count} chain(s) to the trust anchors")

    def _validate_embedded(self, embedded, is_doc_ts):
        validation = self.ph.validation

        def run(moment=None):
            ts_context = self.context(moment, timestamps=True)
            if is_doc_ts:
                return validation.validate_pdf_timestamp(embedded, validation_context=ts_context)
            return validation.validate_pdf_signature(
                embedded, signer_validation_context=self.context(moment),
                ts_validation_context=ts_context)

        status = run()
        if not (status.trusted and self._ts_ok(status)) and self.tsa_anchors:
            moment = status.timestamp if is_doc_ts else self._best_time(status)
            if moment is not None:
                status = run(moment)
        return status


def default_target():
    """Folder of this script if it holds a manifest, else the current folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isfile(os.path.join(here, MANIFEST)):
        return here
    return os.getcwd()


def main(argv=None, out=None):
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        description="Verify an o2s_esign evidence ZIP or unpacked folder.")
    parser.add_argument("path", nargs="?", help="evidence ZIP or folder (default: this folder)")
    parser.add_argument("--trust", action="append", default=[], metavar="PEM",
                        help="pin trust to this CA certificate (PEM; repeatable)")
    parser.add_argument("--ca-fingerprint", action="append", default=[], metavar="SHA256",
                        help="pin certificates/company-ca.pem to this SHA-256 fingerprint")
    parser.add_argument("--no-pyhanko", action="store_true", help="stdlib checks only")
    parser.add_argument("--strict", action="store_true",
                        help="a SKIP that weakens the conclusion fails")
    parser.add_argument("--online", action="store_true", help="allow revocation fetching")
    args = parser.parse_args(argv)
    if out is None and hasattr(sys.stdout, "reconfigure"):
        # a console that cannot show a name must not abort the verification
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.reconfigure(errors="replace")
    verifier = Verifier(args.path or default_target(), use_pyhanko=not args.no_pyhanko,
                        trust=args.trust, strict=args.strict, online=args.online, out=out,
                        ca_fingerprints=args.ca_fingerprint)
    return verifier.run()


if __name__ == "__main__":
    sys.exit(main())
