// Imports the Developer ID certificate into a keychain for codesign, in the
// release workflow's macos job (.github/workflows/release.yml;
// docs/PACKAGING.md, "macOS"): the PKCS#12 (base64) and its passphrase come
// from the environment, never from the command line or a file, which
// `security import` would need (its -P takes the passphrase as an argument).
//
//	MACOS_CERTIFICATE_P12=… MACOS_CERTIFICATE_PASSWORD=… PGSAFE_KEYCHAIN=path \
//	  xcrun swift build/darwin/import-certificate.swift
import Foundation
import Security

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(("import-certificate: " + message + "\n").data(using: .utf8)!)
    exit(1)
}

let env = ProcessInfo.processInfo.environment
guard let b64 = env["MACOS_CERTIFICATE_P12"], !b64.isEmpty,
      let p12 = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else {
    fail("MACOS_CERTIFICATE_P12 is not set or not base64")
}
guard let passphrase = env["MACOS_CERTIFICATE_PASSWORD"] else { fail("MACOS_CERTIFICATE_PASSWORD is not set") }
guard let path = env["PGSAFE_KEYCHAIN"] else { fail("PGSAFE_KEYCHAIN is not set") }

var keychain: SecKeychain?
guard SecKeychainOpen(path, &keychain) == errSecSuccess, let keychain = keychain else {
    fail("cannot open the keychain \(path)")
}
var items: CFArray?
let options: [String: Any] = [
    kSecImportExportPassphrase as String: passphrase,
    kSecImportExportKeychain as String: keychain,
]
let status = SecPKCS12Import(p12 as CFData, options as CFDictionary, &items)
guard status == errSecSuccess else {
    fail("the certificate did not import: \(SecCopyErrorMessageString(status, nil) as String? ?? String(status))")
}
print("import-certificate: \((items as? [Any])?.count ?? 0) identity imported")
