#!/usr/bin/env bash
# pki.sh -- makes every certificate the bridge tests, demo and bench need, with openssl only.
#
#   tests/bridge/pki.sh DIR
#
# DIR/device-ca.{pem,key}   the CA that signs staff devices; device-ca.crl revokes "revoked"
# DIR/bridge-ec.{pem,key}   the bridge's ECDSA P-256 certificate (name "bridge.test", 127.0.0.1)
# DIR/bridge-rsa.{pem,key}  the same as RSA 2048
# DIR/dev-{good,bob,revoked,expired}.{pem,key}   device certificates from device-ca
# DIR/dev-unknown.{pem,key} signed by a CA the bridge does not trust
# DIR/asp-ca.{pem,key}      the CA an ASP service's chain must lead to
# DIR/asp-{good,expired,wronghost,selfsigned,soon,revoked}.{pem,key}  ASP server certificates
# DIR/asp-rsa.{pem,key}     an RSA ASP certificate (for RSA key exchange suites)
# DIR/asp-ca.crl            revokes "asp-revoked"
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
exec 3>/dev/null

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>&3; }

make_ca() {   # NAME CN
	ec_key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" -out "$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>&3
	mkdir -p "$1.db"
	: >"$1.db/index.txt"
	echo 1000 >"$1.db/serial"
	echo 1000 >"$1.db/crlnumber"
	cat >"$1.cnf" <<CNF
[ ca ]
default_ca = the_ca
[ the_ca ]
dir = $PWD/$1.db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $PWD/$1.pem
private_key = $PWD/$1.key
default_md = sha256
default_days = 365
default_crl_days = 365
policy = anything
unique_subject = no
copy_extensions = copy
[ anything ]
commonName = supplied
[ client ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
[ server ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
}

# NAME CA CN EXT [openssl ca date options...]
sign() {
	local name=$1 ca=$2 cn=$3 ext=$4
	shift 4
	ec_key "$name.key"
	openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" \
		${SAN:+-addext "subjectAltName=$SAN"} 2>&3
	openssl ca -batch -config "$ca.cnf" -extensions "$ext" -in "$name.csr" -out "$name.pem" \
		-notext "$@" 2>&3
	rm -f "$name.csr"
}

make_ca device-ca "Hokuto City staff devices"
make_ca other-ca "Someone else's CA"
make_ca asp-ca "LGWAN-ASP test CA"

SAN="DNS:bridge.test,IP:127.0.0.1" sign bridge-ec device-ca bridge.test server
openssl req -x509 -newkey rsa:2048 -nodes -keyout bridge-rsa.key -out bridge-rsa.pem -days 365 \
	-subj "/CN=bridge.test" -addext "subjectAltName=DNS:bridge.test,IP:127.0.0.1" \
	-CA device-ca.pem -CAkey device-ca.key 2>&3

for who in good bob revoked; do sign "dev-$who" device-ca "device-$who" client; done
sign dev-expired device-ca device-expired client -startdate 20200101000000Z -enddate 20210101000000Z
sign dev-unknown other-ca device-unknown client
openssl ca -batch -config device-ca.cnf -revoke dev-revoked.pem 2>&3
openssl ca -batch -config device-ca.cnf -gencrl -out device-ca.crl 2>&3

SAN="DNS:asp-good.test" sign asp-good asp-ca asp-good.test server
SAN="DNS:asp-expired.test" sign asp-expired asp-ca asp-expired.test server \
	-startdate 20200101000000Z -enddate 20210101000000Z
SAN="DNS:somewhere-else.test" sign asp-wronghost asp-ca somewhere-else.test server
SAN="DNS:asp-soon.test" sign asp-soon asp-ca asp-soon.test server -days 5
SAN="DNS:asp-revoked.test" sign asp-revoked asp-ca asp-revoked.test server
openssl ca -batch -config asp-ca.cnf -revoke asp-revoked.pem 2>&3
openssl ca -batch -config asp-ca.cnf -gencrl -out asp-ca.crl 2>&3
openssl req -x509 -newkey rsa:2048 -nodes -keyout asp-rsa.key -out asp-rsa.pem -days 365 \
	-subj "/CN=asp-rsa.test" -addext "subjectAltName=DNS:asp-rsa.test" \
	-CA asp-ca.pem -CAkey asp-ca.key 2>&3
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout asp-selfsigned.key \
	-out asp-selfsigned.pem -days 365 -subj "/CN=asp-selfsigned.test" \
	-addext "subjectAltName=DNS:asp-selfsigned.test" 2>&3
chmod 600 ./*.key
