#!/usr/bin/env bash
# One-shot setup of docker/compose.secured.yaml, as docs/secured-cluster.md asks an operator:
# as the admin certificate (the demo configuration's kirk.pem), create the role `flowstatus`
# from flowstatus-role.json, the internal user `flowstatus` with a random password, and the
# role mapping; then hand flowstatus the CA bundle and the password as files it alone may read.
set -euo pipefail

OS=https://node-0.example.com:9200 # the name the demo node certificate is issued for
CONFIG=/opensearch-config
OUT=/run/flowstatus
FLOWSTATUS_UID=10001 # the user of docker/Dockerfile
ADMIN=(--silent --show-error --fail --cacert "$CONFIG/root-ca.pem" --cert "$CONFIG/kirk.pem" --key "$CONFIG/kirk-key.pem")
JSON=(-H 'Content-Type: application/json')

until curl "${ADMIN[@]}" "$OS/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null; do sleep 2; done

umask 077
# 32 random letters and digits, then one of each class a password policy may ask for.
raw=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
password="${raw:0:32}-Aa1"
curl "${ADMIN[@]}" -X PUT "$OS/_plugins/_security/api/roles/flowstatus" "${JSON[@]}" -d @/setup/flowstatus-role.json
curl "${ADMIN[@]}" -X PUT "$OS/_plugins/_security/api/internalusers/flowstatus" "${JSON[@]}" \
  -d "{\"password\": \"$password\", \"description\": \"flowstatus\"}"
curl "${ADMIN[@]}" -X PUT "$OS/_plugins/_security/api/rolesmapping/flowstatus" "${JSON[@]}" -d '{"users": ["flowstatus"]}'

printf '%s\n' "$password" > "$OUT/opensearch-password.new"
cp "$CONFIG/root-ca.pem" "$OUT/root-ca.pem.new"
chown "$FLOWSTATUS_UID" "$OUT/opensearch-password.new" "$OUT/root-ca.pem.new"
chmod 0400 "$OUT/opensearch-password.new"
chmod 0444 "$OUT/root-ca.pem.new"
mv "$OUT/opensearch-password.new" "$OUT/opensearch-password"
mv "$OUT/root-ca.pem.new" "$OUT/root-ca.pem"
echo "flowstatus's OpenSearch user, role and files are ready"
