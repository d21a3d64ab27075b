# shellcheck shell=bash
# A test certificate authority and server certificates, made with openssl at test time (nothing
# secret is ever committed). Source it, then:
#
#   . tests/lib/testca.sh
#   testca_require || exit 77      # prints "skip: ..." when openssl is missing
#   testca_make "$dir" || exit 1   # makes everything below in $dir
#
# Files made (PEM; every key is EC P-256, every name below is checked by the tests):
#   ca.pem                the test CA that the agent trusts ([server] ca_file)
#   good.pem/.key         signed by the CA, for 127.0.0.1 and localhost, valid now
#   selfsigned.pem/.key   the right names, signed by itself
#   unknownca.pem/.key    the right names, signed by another CA the agent does not know
#   wronghost.pem/.key    signed by the CA, but for wrong.example.invalid only
#   expired.pem/.key      signed by the CA, the right names, valid 2020-01-01 to 2020-01-02 only
#   good.pin              sha256//BASE64 of good.key's public key ([server] pinned_key)
#   other.pin             sha256//BASE64 of a key no server uses (a pin mismatch)

testca_require() {
	if ! command -v openssl >/dev/null 2>&1; then
		echo "skip: openssl is not installed (apt-get install openssl)"
		return 1
	fi
	return 0
}

# _testca_key FILE: a new EC P-256 key.
_testca_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# _testca_pin KEY: curl's pin of the key's public half.
_testca_pin() {
	local b64
	b64=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | openssl dgst -sha256 -binary | base64) || return 1
	echo "sha256//$b64"
}

# _testca_ca DIR NAME CN: a self-signed CA in DIR/NAME.pem/.key with its own `openssl ca` database.
_testca_ca() {
	local dir=$1 name=$2 cn=$3
	mkdir -p "$dir/$name.db" || return 1
	: >"$dir/$name.db/index.txt"
	echo 1000 >"$dir/$name.db/serial"
	cat >"$dir/$name.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
dir = $dir/$name.db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $dir/$name.pem
private_key = $dir/$name.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $cn
[ca_ext]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	_testca_key "$dir/$name.key" || return 1
	openssl req -new -x509 -key "$dir/$name.key" -out "$dir/$name.pem" -days 3650 \
		-config "$dir/$name.cnf" -extensions ca_ext 2>/dev/null
}

# _testca_server DIR CA NAME SAN [STARTDATE ENDDATE]: DIR/NAME.pem/.key signed by CA.
_testca_server() {
	local dir=$1 ca=$2 name=$3 san=$4 start=${5:-} end=${6:-}
	_testca_key "$dir/$name.key" || return 1
	cat >"$dir/$name.ext" <<EOF
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
EOF
	openssl req -new -key "$dir/$name.key" -subj "/CN=fleetcon test $name" -out "$dir/$name.csr" 2>/dev/null || return 1
	local dates=(-days 30)
	[ -n "$start" ] && dates=(-startdate "$start" -enddate "$end")
	openssl ca -batch -config "$dir/$ca.cnf" -in "$dir/$name.csr" -out "$dir/$name.pem" -notext \
		-extfile "$dir/$name.ext" "${dates[@]}" 2>/dev/null
}

# testca_make DIR: makes every file listed at the top in DIR.
testca_make() {
	local dir=$1 names="IP:127.0.0.1, DNS:localhost"
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	_testca_ca "$dir" ca "fleetcon test CA" &&
		_testca_ca "$dir" other-ca "some other CA" &&
		_testca_server "$dir" ca good "$names" &&
		_testca_server "$dir" other-ca unknownca "$names" &&
		_testca_server "$dir" ca wronghost "DNS:wrong.example.invalid" &&
		_testca_server "$dir" ca expired "$names" 20200101000000Z 20200102000000Z || {
		echo "testca: making the test certificates failed" >&2
		return 1
	}
	_testca_key "$dir/selfsigned.key" &&
		openssl req -new -x509 -key "$dir/selfsigned.key" -subj "/CN=fleetcon test selfsigned" \
			-addext "subjectAltName = $names" -days 30 -out "$dir/selfsigned.pem" 2>/dev/null || {
		echo "testca: making the self-signed certificate failed" >&2
		return 1
	}
	_testca_key "$dir/other.key" &&
		_testca_pin "$dir/good.key" >"$dir/good.pin" &&
		_testca_pin "$dir/other.key" >"$dir/other.pin" || {
		echo "testca: computing the pins failed" >&2
		return 1
	}
	# Each certificate must be what its name says, or the negative tests prove nothing.
	openssl verify -CAfile "$dir/ca.pem" "$dir/good.pem" >/dev/null 2>&1 &&
		! openssl verify -CAfile "$dir/ca.pem" "$dir/unknownca.pem" >/dev/null 2>&1 &&
		! openssl verify -CAfile "$dir/ca.pem" "$dir/expired.pem" >/dev/null 2>&1 &&
		openssl verify -CAfile "$dir/ca.pem" -no_check_time "$dir/expired.pem" >/dev/null 2>&1 &&
		openssl verify -CAfile "$dir/ca.pem" "$dir/wronghost.pem" >/dev/null 2>&1 &&
		! openssl verify -CAfile "$dir/ca.pem" -verify_ip 127.0.0.1 "$dir/wronghost.pem" >/dev/null 2>&1 &&
		openssl verify -CAfile "$dir/ca.pem" -verify_ip 127.0.0.1 "$dir/good.pem" >/dev/null 2>&1 || {
		echo "testca: a test certificate is not what it should be" >&2
		return 1
	}
	return 0
}
