#!/usr/bin/env bash
# Makes a throwaway PKI for tests in DIR (test-only keys, made fresh on each
# run, never committed):
#   ca.pem            a test CA
#   server.pem/.key   localhost (DNS:localhost, IP:127.0.0.1), signed by ca
#   client.pem/.key   a client certificate for "errand-test-client" (CN and
#                     DNS SAN), signed by ca
#   other-ca.pem, other-server.pem/.key
#                     a second CA and a localhost certificate it signed, to
#                     rotate to
# EC P-256 keys, so that it takes a fraction of a second.
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

make_ca() {  # name
  openssl req -x509 "${ec[@]}" -keyout "$1.key" -out "$1.pem" -days 3650 \
    -subj "/CN=Errand test CA $1" 2>/dev/null
}

make_leaf() {  # name ca cn san eku
  openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" \
    2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
    "$4" "$5" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
    -CAcreateserial -out "$1.pem" -days 3650 -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_ca ca
make_ca other-ca
make_leaf server ca localhost "DNS:localhost,IP:127.0.0.1" serverAuth
make_leaf other-server other-ca localhost "DNS:localhost,IP:127.0.0.1" serverAuth
make_leaf client ca errand-test-client "DNS:errand-test-client" clientAuth
chmod 600 ./*.key
