#!/usr/bin/env bash
# Property-based run of schemathesis against the admin API's own OpenAPI document:
# generated requests for every operation (coverage, fuzzing and stateful phases),
# with no 5xx allowed and every answer conforming to the document (status code,
# content type, headers, body schema). The token is a client_credentials one of a
# client registered with gatehouse:admin by interop/run.
set -uo pipefail
: "${INTEROP_ISSUER:?}" "${ADMIN_CLIENT_ID:?}" "${ADMIN_SECRET:?}" "${SCHEMATHESIS:?}"

version=$("$SCHEMATHESIS" --version | awk '{print $NF}')
report() { printf 'schemathesis\t%s\t%s\n' "$version" "$1" >>"${INTEROP_RESULTS:-/dev/null}"; }

token=$(curl -fsS -u "$ADMIN_CLIENT_ID:$ADMIN_SECRET" "$INTEROP_ISSUER/token" \
  -d grant_type=client_credentials -d scope=gatehouse:admin |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') || {
  echo "FAIL schemathesis $version: admin token: client_credentials was refused"
  report "FAIL (no token)"
  exit 1
}

# A bounded number of examples per operation keeps the run to seconds.
if "$SCHEMATHESIS" run "$INTEROP_ISSUER/admin/api/openapi.json" \
  --url "$INTEROP_ISSUER/admin/api/v1" \
  -H "Authorization: Bearer $token" \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-20261203}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --no-color; then
  echo "schemathesis $version: every operation, no 5xx, answers as documented ... ok"
  report "pass"
else
  echo "FAIL schemathesis $version: see the failures above"
  report "FAIL"
  exit 1
fi
