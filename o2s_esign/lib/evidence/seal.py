"""The seal adapter: what evidence needs from the signing layer (:class:`Sealer`) and its
implementation on ``lib.signing.PadesSigner`` (:class:`PadesSealer`)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Sealer(Protocol):
    """What evidence needs from the signing layer.

    ``seal_pdf(pdf) -> pdf`` applies the company seal (PAdES); ``seal_detached(data) -> der``
    returns a detached CMS signature over ``data`` (time-stamped when a TSA is configured).
    A sealer may also offer ``timestamp(data) -> der | None``: an RFC 3161 token over
    SHA-256(data), written as ``timestamps/manifest.json.tsr``.
    """

    def seal_pdf(self, data: bytes) -> bytes: ...

    def seal_detached(self, data: bytes) -> bytes: ...


class PadesSealer:
    """:class:`Sealer` backed by ``lib.signing.PadesSigner`` (duck-typed, no import here)."""

    def __init__(self, signer, *, identity, level: str, tsa=None, trust_roots=(),
                 extra_crls=()):
        self.signer = signer
        self.identity = identity
        self.level = level
        self.tsa = tsa
        self.trust_roots = list(trust_roots)
        self.extra_crls = list(extra_crls)

    def seal_pdf(self, data: bytes) -> bytes:
        """Company seal on a report PDF, at the configured level."""
        return self.signer.seal(data, identity=self.identity, level=self.level, tsa=self.tsa,
                                trust_roots=self.trust_roots, extra_crls=self.extra_crls).data

    def seal_detached(self, data: bytes) -> bytes:
        """Detached CMS over ``data`` (time-stamped when a TSA is configured)."""
        return self.signer.sign_detached(data, identity=self.identity, tsa=self.tsa)

    def timestamp(self, data: bytes) -> bytes | None:
        """RFC 3161 token over ``data``; None without a TSA."""
        if self.tsa is None:
            return None
        return self.signer.timestamp(data, self.tsa)
