"""verify.py: stdlib-only runs (system python3, no pyHanko), full runs (venv, pyHanko),
tamper detection naming the failed check, hostile inputs, and agreement with lib/chain.py."""

import dataclasses
import hashlib
import io
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import evidence_factory as factory
import o2s_esign_lib
import o2s_esign_lib.evidence as ev
import pytest
from chain_events import build_chain
from o2s_esign_lib import chain, verify

LIB = o2s_esign_lib
VERIFY = Path(verify.__file__)
VENV_PYTHON = sys.executable


def _system_python():
    """A Python 3 without pyHanko (the machine's own), or None."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if not candidate or not os.path.exists(candidate):
            continue
        probe = subprocess.run([candidate, "-c", "import pyhanko"], capture_output=True,
                               timeout=60, check=False)
        if probe.returncode != 0:
            return candidate
    return None


SYSTEM_PYTHON = _system_python()
needs_system_python = pytest.mark.skipif(SYSTEM_PYTHON is None,
                                         reason="no python3 without pyHanko on this machine")


def run_cli(python, *args, cwd=None, script=VERIFY):
    proc = subprocess.run([python, str(script), *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout + ("\n" + proc.stderr if proc.returncode == 2 else "")


def run_inprocess(path, *args, pyhanko=False):
    out = io.StringIO()
    argv = [str(path), *args] + ([] if pyhanko else ["--no-pyhanko"])
    return verify.main(argv, out=out), out.getvalue()


def failed(output):
    last = output.strip().splitlines()[-1]
    assert last.startswith("RESULT: ")
    if last.startswith("RESULT: PASS"):
        return []
    return last.split(": ", 2)[2].split(", ")


def build(scenario, path, sealer=None):
    with open(path, "wb") as fh:
        ev.build_evidence_zip(fh, scenario.bundle, sealer=sealer or scenario.sealer)
    return path


def unpack(zip_path, folder):
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder)
    return folder


def rewrite_manifest(folder, mutate):
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    mutate(manifest)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def rehash(folder, name):
    def mutate(manifest):
        manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    rewrite_manifest(folder, mutate)


def flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return factory.two_signer_scenario(LIB, tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def evidence_zip(scenario, tmp_path_factory):
    return build(scenario, tmp_path_factory.mktemp("zip") / "EVIDENCE.zip")


@pytest.fixture
def folder(evidence_zip, tmp_path):
    return unpack(evidence_zip, tmp_path / "unpacked")


# --- clean evidence ------------------------------------------------------------------------

@needs_system_python
def test_system_python_on_zip(evidence_zip):
    rc, output = run_cli(SYSTEM_PYTHON, evidence_zip)
    assert rc == 0, output
    result = factory.verify_statuses(output)
    for name in ("zip_structure", "entries", "manifest", "files_complete", "chain",
                 "chain_head", "hash:audit_trail.json", "hash:evidence.pdf",
                 "original_prefix:signed/1-Lettre-de-mission-n-1-ete.pdf"):
        assert result[name] == "PASS", name
    for name in ("manifest_seal", "pdf_signatures:evidence.pdf",
                 "pdf_signatures:signed/1-Lettre-de-mission-n-1-ete.pdf",
                 "pdf_trust:evidence.pdf"):
        assert result[name] == "SKIP", name
    assert "pyHanko is not available" in output
    assert output.strip().splitlines()[-1].startswith("RESULT: PASS")


@needs_system_python
def test_system_python_in_unpacked_folder(folder, tmp_path):
    rc, output = run_cli(SYSTEM_PYTHON, cwd=folder, script=folder / "verify.py")
    assert rc == 0, output
    assert factory.verify_statuses(output)["zip_structure"] == "SKIP"
    assert factory.verify_statuses(output)["chain"] == "PASS"
    # run from elsewhere: the script's own folder is checked
    rc, output = run_cli(SYSTEM_PYTHON, cwd=tmp_path, script=folder / "verify.py")
    assert rc == 0, output
    rc, output = run_cli(SYSTEM_PYTHON, folder)
    assert rc == 0, output


@needs_system_python
def test_system_python_strict_fails_on_skips(evidence_zip):
    rc, output = run_cli(SYSTEM_PYTHON, "--strict", evidence_zip)
    assert rc == 1
    names = failed(output)
    assert "manifest_seal" in names and "pdf_signatures:evidence.pdf" in names
    assert "zip_structure" not in names


def test_venv_python_checks_everything(evidence_zip, folder):
    for target in (evidence_zip, folder):
        rc, output = run_cli(VENV_PYTHON, target)
        assert rc == 0, output
        result = factory.verify_statuses(output)
        assert result["manifest_seal"] == "PASS"
        for name in ("evidence.pdf", "signed/1-Lettre-de-mission-n-1-ete.pdf"):
            assert result[f"pdf_signatures:{name}"] == "PASS", output
            assert result[f"pdf_trust:{name}"] == "PASS", output
        skipped = [n for n, s in result.items() if s == "SKIP"]
        assert set(skipped) <= {"manifest_timestamp", "zip_structure"}
    assert "3 intact and valid: signature SignerA, signature SignerB, signature CompanySeal" \
        in output
    assert "trust anchor certificates/company-ca.pem" in output


def test_with_tsa_everything_passes_strict(pki_server, tmp_path):
    tsa_certs = {"tsa.pem": pki_server.tsa_cert.dump(), "tsa-root.pem": pki_server.root_cert.dump()}
    scenario = factory.two_signer_scenario(LIB, tmp_path, tsa_url=pki_server.tsa_url,
                                           tsa_certs=tsa_certs)
    path = build(scenario, tmp_path / "tsa.zip")
    rc, output = run_cli(VENV_PYTHON, "--strict", path)
    assert rc == 0, output
    result = factory.verify_statuses(output)
    assert "SKIP" not in result.values()
    assert result["manifest_timestamp"] == "PASS"
    assert "time-stamped" in output  # the manifest seal carries a signature time-stamp
    if SYSTEM_PYTHON:
        rc, output = run_cli(SYSTEM_PYTHON, path)
        assert rc == 0, output
        assert "imprint matches" in output


# --- tampering -----------------------------------------------------------------------------

def test_flipped_byte_in_each_file_is_named(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in manifest["files"]:
        target = folder / name
        original = target.read_bytes()
        flip(target, len(original) // 2)
        rc, output = run_inprocess(folder)
        assert rc == 1
        assert f"hash:{name}" in failed(output), (name, output)
        target.write_bytes(original)
    rc, output = run_inprocess(folder)
    assert rc == 0, output


def test_flipped_byte_in_signed_pdf_with_pyhanko(folder):
    name = "signed/1-Lettre-de-mission-n-1-ete.pdf"
    flip(folder / name, 200)  # inside the original revision, covered by every signature
    rc, output = run_cli(VENV_PYTHON, folder)
    assert rc == 1
    names = failed(output)
    assert f"hash:{name}" in names
    assert f"original_prefix:{name}" in names
    assert f"pdf_signatures:{name}" in names
    rehash(folder, name)  # a forger also fixes the manifest: the seal still fails
    rc, output = run_cli(VENV_PYTHON, folder)
    names = failed(output)
    assert f"hash:{name}" not in names
    assert f"pdf_signatures:{name}" in names and "manifest_seal" in names


def test_audit_trail_edit(folder):
    path = folder / "audit_trail.json"
    audit = json.loads(path.read_text())
    audit["events"][4]["ip_address"] = "192.0.2.1"
    path.write_text(json.dumps(audit, indent=2, ensure_ascii=False))
    rc, output = run_inprocess(folder)
    assert rc == 1 and {"hash:audit_trail.json", "chain", "chain_head"} <= set(failed(output))
    assert "hash_mismatch at event 5" in output
    rehash(folder, "audit_trail.json")
    rc, output = run_inprocess(folder)
    assert set(failed(output)) == {"chain", "chain_head"}


def test_audit_trail_rechained_forgery_needs_the_seal(folder):
    path = folder / "audit_trail.json"
    audit = json.loads(path.read_text())
    audit["events"][4]["ip_address"] = "192.0.2.1"
    audit["events"] = build_chain(audit["events"])  # recompute every hash
    path.write_text(json.dumps(audit, indent=2, ensure_ascii=False))
    rehash(folder, "audit_trail.json")
    rewrite_manifest(folder, lambda m: m.update(chain_head=audit["events"][-1]["hash"]))
    # stdlib alone: the sealed report still states the genuine chain head; with pyHanko the
    # seal over manifest.json fails too
    rc, output = run_inprocess(folder)
    assert rc == 1 and failed(output) == ["evidence_report"]
    rc, output = run_cli(VENV_PYTHON, folder)
    assert rc == 1 and failed(output) == ["evidence_report", "manifest_seal"]


def test_audit_trail_truncation(folder):
    path = folder / "audit_trail.json"
    audit = json.loads(path.read_text())
    audit["events"] = audit["events"][:-1]
    path.write_text(json.dumps(audit, indent=2, ensure_ascii=False))
    rehash(folder, "audit_trail.json")
    rc, output = run_inprocess(folder)
    assert rc == 1
    assert failed(output) == ["chain_head"]
    assert "manifest says 10 events" in output


def test_missing_and_extra_files(folder):
    (folder / "consent.txt").unlink()
    (folder / "certificates" / "extra.pem").write_text("x")
    rc, output = run_inprocess(folder)
    assert rc == 1
    names = failed(output)
    assert {"files_complete", "hash:consent.txt"} <= set(names)
    assert "missing: consent.txt" in output and "not in manifest: certificates/extra.pem" in output


def test_os_litter_is_ignored(folder):
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    rc, output = run_inprocess(folder)
    assert rc == 0 and "INFO  ignored .DS_Store" in output


def test_swapped_company_ca_is_not_trusted(folder):
    other = factory.TestCa("Faussaire SA")
    (folder / "certificates" / "company-ca.pem").write_bytes(other.cert_pem)
    rehash(folder, "certificates/company-ca.pem")
    rc, output = run_cli(VENV_PYTHON, folder)
    assert rc == 1
    names = failed(output)
    assert "manifest_seal" in names
    assert "pdf_trust:evidence.pdf" in names
    assert "pdf_trust:signed/1-Lettre-de-mission-n-1-ete.pdf" in names
    assert "pdf_signatures:evidence.pdf" not in names  # intact and valid, just not trusted


def test_extra_trust_anchor_option(folder, tmp_path):
    rc, output = run_cli(VENV_PYTHON, "--trust", tmp_path / "missing.pem", folder)
    assert rc == 1 and "trust" in failed(output)


def test_replaced_evidence_pdf_fails_its_seal(folder, scenario):
    forged = ev.render_evidence_pdf(scenario.bundle)  # unsealed report
    (folder / "evidence.pdf").write_bytes(forged)
    rehash(folder, "evidence.pdf")
    rc, output = run_cli(VENV_PYTHON, folder)
    assert rc == 1
    names = failed(output)
    assert "pdf_signatures:evidence.pdf" in names and "manifest_seal" in names
    assert "no signature found" in output


def zip_regions(path):
    """(header_offsets, data_offsets) of a ZIP: every byte that is not member data, and every
    byte that is."""
    size = path.stat().st_size
    data_bytes, header_bytes = [], []
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        cd_start = zf.start_dir
    for info in infos:
        data_start = info.header_offset + 30 + len(info.filename.encode())
        data_end = data_start + info.compress_size
        header_bytes += range(info.header_offset, data_start)
        data_bytes += range(data_start, data_end)
    header_bytes += range(cd_start, size)
    assert len(set(header_bytes) | set(data_bytes)) == size  # every byte accounted for
    return header_bytes, data_bytes


def member_edges(path):
    """The first two and last two data bytes of every member (where a compressed stream
    would hide unchecked padding bits)."""
    edges = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            start = info.header_offset + 30 + len(info.filename.encode())
            end = start + info.compress_size
            edges += [o for o in (start, start + 1, end - 2, end - 1) if start <= o < end]
    return edges


class MarkSealer:
    """Seals with marks (stdlib checks do not look into seals): keeps the ZIP small."""

    def seal_pdf(self, data):
        return data

    def seal_detached(self, data):
        return b"0\x03\x02\x01\x01" + hashlib.sha256(data).digest()


def test_any_flipped_byte_of_the_zip_fails(tmp_path):
    """Every byte that is not member data (headers, descriptors, central directory, end
    record) and a sample of data bytes: each single flip makes verify fail."""
    pdf = factory.make_pdf(1)
    (tmp_path / "a.pdf").write_bytes(pdf)
    bundle = ev.EvidenceBundle(
        request=ev.EvidenceRequest(reference="R/1", state="signed"),
        documents=[ev.EvidenceDocument(name="a", original=str(tmp_path / "a.pdf"),
                                       signed=str(tmp_path / "a.pdf"))],
        events=factory.make_events(LIB, [("created", None, None, None, {})]),
        certificates={"company-ca.pem": factory.TestCa().cert_pem},
        generated_at=factory.T0)
    path = tmp_path / "small.zip"
    with open(path, "wb") as fh:
        ev.build_evidence_zip(fh, bundle, sealer=MarkSealer())
    pristine = path.read_bytes()
    rc, output = run_inprocess(path)
    assert rc == 0, output
    header_bytes, data_bytes = zip_regions(path)
    rng = random.Random(1234)
    positions = header_bytes + member_edges(path) + rng.sample(data_bytes, 150)
    survivors = []
    seen_checks = set()
    for offset in positions:
        data = bytearray(pristine)
        data[offset] ^= 0x01
        path.write_bytes(bytes(data))
        rc, output = run_inprocess(path)
        if rc != 1 or not failed(output):
            survivors.append(offset)
        else:
            seen_checks.update(name.split(":")[0] for name in failed(output))
    path.write_bytes(pristine)
    assert not survivors, survivors[:20]
    assert {"zip_structure", "hash", "input"} <= seen_checks


@pytest.mark.parametrize("name", [
    "audit_trail.json", "evidence.pdf", "manifest.json", "manifest.json.p7s",
    "signed/1-Lettre-de-mission-n-1-ete.pdf", "verify.py",
])
def test_flipped_byte_in_zip_member_with_pyhanko(evidence_zip, tmp_path, name):
    with zipfile.ZipFile(evidence_zip) as zf:
        info = zf.getinfo(name)
    path = tmp_path / "t.zip"
    data = bytearray(evidence_zip.read_bytes())
    data[info.header_offset + 30 + len(name) + info.compress_size // 2] ^= 0x01
    path.write_bytes(bytes(data))
    rc, output = run_cli(VENV_PYTHON, path)
    assert rc == 1
    names = failed(output)
    expected = {"manifest.json": "manifest", "manifest.json.p7s": "zip_structure"}.get(
        name, f"hash:{name}")
    assert expected in names, output


# --- hostile input -------------------------------------------------------------------------

def hostile_zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            if mode:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize("name, mode", [
    ("../evil.txt", 0), ("/abs/evil.txt", 0), ("a\\..\\..\\evil.txt", 0), ("C:/evil.txt", 0),
    ("ok/../../evil.txt", 0), (".hidden", 0), ("link.txt", stat.S_IFLNK | 0o777),
    ("dir/", stat.S_IFDIR | 0o755), ("x" * 300, 0),
])
def test_hostile_entry_names(folder, tmp_path, name, mode):
    entries = [(str(p.relative_to(folder)), p.read_bytes(), 0)
               for p in sorted(folder.rglob("*")) if p.is_file()]
    path = hostile_zip(tmp_path / "hostile.zip", entries + [(name, b"../../etc/passwd", mode)])
    work = tmp_path / "work"
    work.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, output = run_cli(SYSTEM_PYTHON or VENV_PYTHON, "--no-pyhanko", path, cwd=work)
    assert rc == 1
    names = failed(output)
    assert "entries" in names and "zip_structure" in names
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(work.iterdir()) == []
    assert not Path("/tmp/evil.txt").exists() and not Path("/abs").exists()


def test_duplicate_entries(folder, tmp_path):
    entries = [(str(p.relative_to(folder)), p.read_bytes(), 0)
               for p in sorted(folder.rglob("*")) if p.is_file()]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = hostile_zip(tmp_path / "dup.zip", entries + [("consent.txt", b"other", 0)])
    rc, output = run_inprocess(path)
    assert rc == 1 and "entries" in failed(output) and "duplicate entry" in output


@pytest.mark.parametrize("files", [
    {"../../etc/passwd": "0" * 64}, {"/etc/passwd": "0" * 64}, {"ok.txt": "not-a-hash"},
    {"manifest.json.p7s": "0" * 64}, "not a dict",
])
def test_hostile_manifest_paths(folder, files):
    rewrite_manifest(folder, lambda m: m.update(files=files))
    rc, output = run_inprocess(folder)
    assert rc == 1 and failed(output)[0] == "manifest"


def test_manifest_json_bomb(folder):
    (folder / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    rc, output = run_inprocess(folder)
    assert rc == 1 and "manifest" in failed(output)


def test_symlink_to_a_fifo_outside_is_never_opened(folder, tmp_path):
    fifo = tmp_path / "outside.fifo"
    os.mkfifo(fifo)
    name = "signed/1-Lettre-de-mission-n-1-ete.pdf"
    (folder / name).unlink()
    (folder / name).symlink_to(fifo)
    (folder / "certificates-link").symlink_to("/etc", target_is_directory=True)
    rc, output = run_cli(VENV_PYTHON, folder)  # would block forever if the FIFO were opened
    assert rc == 1
    names = failed(output)
    assert "entries" in names and f"hash:{name}" in names


@pytest.mark.parametrize("target, check", [
    ("nonexistent.zip", "input"), ("not-a-zip.zip", "input"), ("emptydir", "input"),
])
def test_bad_inputs(tmp_path, target, check):
    (tmp_path / "not-a-zip.zip").write_bytes(b"PK\x03\x04garbage")
    (tmp_path / "emptydir").mkdir()
    rc, output = run_inprocess(tmp_path / target)
    assert rc == 1 and failed(output) == [check]


def test_usage_error_exit_code():
    rc, output = run_cli(VENV_PYTHON, "--bogus")
    assert rc == 2 and "usage" in output


# --- the duplicated chain code agrees with lib/chain.py -------------------------------------

def random_value(rng, depth=0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randrange(-10**12, 10**12)
    if kind == 3:
        alphabet = "aZ09 <>&\"'\\/\n\t\u00e9\u00e8\u0153\u20ac\u2014\U0001f600\u0000"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind in (4, 5):
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{rng.randrange(50)}\u00e9": random_value(rng, depth + 1)
            for _ in range(rng.randrange(4))}


def random_events(rng, count):
    events = []
    for index in range(1, count + 1):
        events.append({
            "request": rng.choice([7, "ESIGN/1", None]), "sequence": index,
            "event_type": rng.choice(["created", "signed", "otp_sent"]),
            "date": f"2026-11-{rng.randrange(1, 29):02d}T10:00:00.000000Z",
            "signer": rng.choice([None, 1, 2, "A"]), "ip_address": rng.choice([None, "::1"]),
            "user_agent": random_value(rng, 3) if rng.random() < 0.5 else None,
            "payload": {"x": random_value(rng)},
            "extra_not_hashed": rng.random() < 0.5,
        })
    return build_chain(events)


def test_canonical_json_agrees():
    rng = random.Random(20261127)
    for _ in range(500):
        value = {"v": random_value(rng)}
        assert verify.canonical_json(value) == chain.canonical_json(value)
    assert verify.GENESIS_HASH == chain.GENESIS_HASH
    assert verify.HASHED_FIELDS == chain.HASHED_FIELDS
    for bad in ({"f": 1.5}, {"f": float("nan")}, {1: 2}, {"t": (1,)}):
        with pytest.raises((TypeError, ValueError)):
            chain.canonical_json(bad)
        with pytest.raises((TypeError, ValueError)):
            verify.canonical_json(bad)


def test_chain_walk_agrees_on_random_tampering():
    rng = random.Random(42)
    for round_ in range(300):
        events = random_events(rng, rng.randrange(1, 9))
        mutation = round_ % 6
        if mutation == 1:
            victim = rng.randrange(len(events))
            events[victim]["payload"] = {"x": "tampered"}
        elif mutation == 2 and len(events) > 1:
            del events[rng.randrange(len(events))]
        elif mutation == 3 and len(events) > 1:
            i = rng.randrange(len(events) - 1)
            events[i], events[i + 1] = events[i + 1], events[i]
        elif mutation == 4:
            events[rng.randrange(len(events))]["sequence"] += 1
        elif mutation == 5:
            events[-1]["hash"] = "f" * 64
        for event in events:
            assert verify.compute_hash(event["previous_hash"], event) == \
                chain.compute_hash(event["previous_hash"], event)
        reference = chain.verify_chain(events)
        ok, head, position, reason = verify.walk_chain(events)
        assert (ok, head, position, reason) == (reference.ok, reference.head,
                                                 reference.first_broken, reference.reason)
        json_round_trip = json.loads(json.dumps(events, ensure_ascii=False))
        assert verify.walk_chain(json_round_trip) == (ok, head, position, reason)
    assert verify.walk_chain([]) == (False, chain.GENESIS_HASH, None, "empty")


def test_verify_is_stdlib_only():
    import ast
    tree = ast.parse(VERIFY.read_text())
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            top_level.add(node.module.split(".")[0])
    assert top_level <= set(sys.stdlib_module_names), top_level - set(sys.stdlib_module_names)


def test_refused_request_verifies(tmp_path):
    scenario = factory.two_signer_scenario(LIB, tmp_path, state="refused")
    path = build(scenario, tmp_path / "refused.zip")
    rc, output = run_cli(VENV_PYTHON, path)
    assert rc == 0, output
    result = factory.verify_statuses(output)
    # partially signed: signer A's signature only, no seal
    assert "1 intact and valid: signature SignerA" in output
    assert result["pdf_trust:signed/1-Lettre-de-mission-n-1-ete.pdf"] == "PASS"


# --- documents made from an uploaded file (issue 16) ---------------------------------------

def test_uploaded_source_is_listed_and_checked(scenario, tmp_path):
    """A converted document's uploaded file is in the evidence and the verifier ties it to the
    manifest's file list; a manifest whose source hash disagrees fails."""
    upload = b"\xff\xd8\xff\xe0 a phone photo"
    digest = hashlib.sha256(upload).hexdigest()
    first, *rest = scenario.bundle.documents
    first = dataclasses.replace(
        first, source=lambda: io.BytesIO(upload), source_name="IMG_1.jpg",
        source_sha256=digest, source_mimetype="image/jpeg", source_kind="image")
    bundle = dataclasses.replace(scenario.bundle, documents=[first, *rest])
    path = tmp_path / "EVIDENCE.zip"
    with open(path, "wb") as fh:
        ev.build_evidence_zip(fh, bundle, sealer=scenario.sealer)
    rc, output = run_inprocess(path)
    assert rc == 0, output
    checks = factory.verify_statuses(output)
    sources = [name for name in checks if name.startswith("source:")]
    assert len(sources) == 1 and sources[0].endswith(".jpg"), output
    assert checks[sources[0]] == "PASS" and "converted from image" in output
    folder = unpack(path, tmp_path / "unpacked")

    def mutate(manifest):
        manifest["documents"][0]["source"]["sha256"] = "0" * 64
    rewrite_manifest(folder, mutate)
    rc, output = run_inprocess(folder)
    assert rc == 1 and sources[0] in failed(output), output
