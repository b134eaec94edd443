/** @odoo-module **/
/* Part of o2s_esign. License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0). */

/**
 * The signer's key, made and used in this page only (issue 18).
 *
 * A non-extractable ECDSA P-256 key pair is generated with WebCrypto; only its public key
 * (SPKI) leaves the page, with a proof of possession: its signature over the server's
 * challenge (bound to the signer, the request and the verified-code session). The server
 * issues the one-time certificate for that key and prepares each document; the key signs the
 * DER signed attributes of each (ECDSA with SHA-256: WebCrypto hashes them itself). WebCrypto
 * gives raw r||s signatures: the server converts them to DER. The key references are dropped
 * when done. Only standard calls supported by Safari, Chrome and Firefox are used.
 *
 * Returns the signature values ({document id: base64}) or null when the browser cannot do it
 * (no WebCrypto, an error): the page then signs as before, with the server-side key.
 */

function toBase64(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i++) {
        binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary);
}

function fromBase64(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) {
        bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
}

export function browserKeySupported() {
    const subtle = window.crypto && window.crypto.subtle;
    return Boolean(subtle && subtle.generateKey && subtle.sign && subtle.exportKey);
}

/**
 * @param {Function} call async (action, params) => result of the page's JSON action
 * @returns {Promise<Object|null>}
 */
export async function browserKeySignatures(call) {
    if (!browserKeySupported()) {
        return null;
    }
    const subtle = window.crypto.subtle;
    const algorithm = { name: "ECDSA", hash: "SHA-256" };
    let keyPair = null;
    try {
        keyPair = await subtle.generateKey(
            { name: "ECDSA", namedCurve: "P-256" },
            false, // non-extractable: the private key cannot be exported, not even by this page
            ["sign", "verify"]
        );
        const spki = await subtle.exportKey("spki", keyPair.publicKey);
        const challenge = await call("key_challenge", {});
        if (!challenge || challenge.error) {
            return null;
        }
        const proof = await subtle.sign(algorithm, keyPair.privateKey,
                                        fromBase64(challenge.challenge));
        const registered = await call("key", {
            public_key: toBase64(spki),
            proof: toBase64(proof),
        });
        if (!registered || registered.error) {
            return null;
        }
        const prepared = await call("prepare", {});
        if (!prepared || prepared.error || !prepared.documents) {
            return null;
        }
        const signatures = {};
        for (const doc of prepared.documents) {
            const value = await subtle.sign(algorithm, keyPair.privateKey,
                                            fromBase64(doc.to_be_signed));
            signatures[doc.id] = toBase64(value);
        }
        return signatures;
    } catch {
        return null;
    } finally {
        keyPair = null; // the only reference to the key: it is gone with this call
    }
}
