// Writes node-keys.json: signing keys as npm better-auth 1.7.25's jwt plugin stores them (jose
// generateKeyPair + exportJWK, the private JWK symmetricEncrypt-ed with the Go tests' secret, as
// createJwk does), each with a JWT signed in Node. Node resolves packages from the script's own
// folder, so run a copy in web/compat (after npm ci there):
//   cp ../../testdata/jwt/make-node-keys.mjs mk.mjs && node mk.mjs > ../../testdata/jwt/node-keys.json; rm mk.mjs
import { generateKeyPair, exportJWK, SignJWT } from "jose";
import { symmetricEncrypt } from "better-auth/crypto";

const secret = "test-secret-test-secret-test-secret-0123"; // testSecret in main_test.go
const rows = [];
for (const [i, alg, cfg] of [[1, "EdDSA", { crv: "Ed25519" }], [2, "ES256", {}], [3, "RS256", {}]]) {
	const { publicKey, privateKey } = await generateKeyPair(alg, { ...cfg, extractable: true });
	const pub = await exportJWK(publicKey);
	const priv = await exportJWK(privateKey);
	const id = "nodeMadeKey" + String(i).padStart(21, "0");
	const nodeSignedJWT = await new SignJWT({ email: "node@example.com" })
		.setProtectedHeader({ alg, kid: id })
		.setSubject("node-user")
		.setIssuer("http://node.example")
		.setAudience("http://node.example")
		.setIssuedAt(1764950000)
		.setExpirationTime(4102444800)
		.sign(privateKey);
	rows.push({
		id,
		alg,
		crv: pub.crv ?? null,
		publicKey: JSON.stringify(pub),
		privateKey: JSON.stringify(await symmetricEncrypt({ key: secret, data: JSON.stringify(priv) })),
		nodeSignedJWT,
	});
}
console.log(JSON.stringify({ "//": "Made by make-node-keys.mjs; see there.", rows }, null, 2));
