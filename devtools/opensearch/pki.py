"""Throwaway certificates for a secured test node, made with ``cryptography``.

One CA signs a node certificate (TLS on HTTP and transport; SAN 127.0.0.1
and localhost), an admin certificate (the security plugin's super admin when
listed in ``plugins.security.authcz.admin_dn``) and any client certificates
asked for later. Keys are RSA 2048 in unencrypted PKCS#8 PEM, the form the
security plugin's ``pemkey_filepath`` settings read. Nothing here is fit for
anything but a node on 127.0.0.1 that lives as long as a test.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import LauncherError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

_ORG = "flowstatus-test"
_VALID = datetime.timedelta(days=2)


def _crypto() -> None:
    """Raise LauncherError naming the package if ``cryptography`` is missing."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise LauncherError("a secured node needs the Python package cryptography "
                            "(pip install cryptography) to make its certificates") from None


@dataclass(frozen=True)
class CertFiles:
    """A PEM certificate and its PKCS#8 key on disk, and the certificate's
    subject DN in RFC 4514 form (as the security plugin's settings want it)."""

    cert: Path
    key: Path
    dn: str


class Pki:
    """A CA that writes certificates into ``folder`` (created mode 0700).

    ``Pki(folder)`` makes the CA and writes ``ca.pem``; :meth:`issue` makes
    further certificates. Raises LauncherError if ``cryptography`` is missing.
    """

    def __init__(self, folder: Path) -> None:
        _crypto()
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.folder = folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._ca_cert = self._sign(self._name("flowstatus test CA"), self._ca_key.public_key(), ca=True)
        self.ca_path = folder / "ca.pem"
        self._write(self.ca_path, self._pem(self._ca_cert))

    @classmethod
    def dn(cls, common_name: str, unit: str) -> str:
        """The RFC 4514 subject DN :meth:`issue` gives ``common_name`` in ``unit``
        (known before any certificate exists, for the node's settings)."""
        _crypto()
        return cls._name(common_name, unit).rfc4514_string()

    @staticmethod
    def _name(common_name: str, unit: str = "test") -> x509.Name:
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
                          x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def _sign(self, subject: x509.Name, public_key: rsa.RSAPublicKey, *, ca: bool = False,
              server: bool = False, client: bool = False) -> x509.Certificate:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import ExtendedKeyUsageOID

        now = datetime.datetime.now(datetime.UTC)
        issuer = subject if ca else self._ca_cert.subject
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   # an hour back: clocks of the node's JVM and ours may differ slightly
                   .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + _VALID)
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
        else:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_encipherment=True, key_cert_sign=False, crl_sign=False,
                content_commitment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
                [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._ca_key.public_key()), critical=False)
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        return builder.sign(self._ca_key, hashes.SHA256())

    def issue(self, name: str, *, server: bool = False, unit: str = "clients") -> CertFiles:
        """Make a certificate with CN ``name`` and write ``<name>.pem`` and
        ``<name>-key.pem``. ``server`` makes a node certificate (server and
        client auth, for transport; SAN 127.0.0.1 and localhost); otherwise a
        client certificate. Overwrites an earlier one of the same name."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = self._name(name, unit)
        cert = self._sign(subject, key.public_key(), server=server, client=True)
        files = CertFiles(self.folder / f"{name}.pem", self.folder / f"{name}-key.pem", subject.rfc4514_string())
        self._write(files.cert, self._pem(cert))
        self._write(files.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
        return files

    @staticmethod
    def _pem(cert: x509.Certificate) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return cert.public_bytes(serialization.Encoding.PEM)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Write ``data`` readable by its owner only (keys included)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
