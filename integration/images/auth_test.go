package images

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	testUser     = "runlet"
	testPassword = "s3cret-pass"
)

func pullWith(t *testing.T, d *daemon, ref string, auth *runtime.AuthConfig) error {
	t.Helper()
	_, err := d.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}, Auth: auth})
	return err
}

func TestPullWithBasicAuthFromTheRequest(t *testing.T) {
	needRoot(t)
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(shortTempDir(t), "htpasswd")
	os.WriteFile(htpasswd, []byte(testUser+":"+string(hash)+"\n"), 0o600)
	reg := startRegistry(t, fmt.Sprintf("auth:\n  htpasswd:\n    realm: runlet-test\n    path: %s\n", htpasswd))
	reg.pushAs(t, "private:1", busybox(t, ""), testUser, testPassword)
	d := startDaemon(t, plainHTTP(reg))
	ref := reg.Host + "/private:1"

	assertCode(t, pullWith(t, d, ref, nil), "Unauthenticated", reg.Host)
	assertCode(t, pullWith(t, d, ref, &runtime.AuthConfig{Username: testUser, Password: "wrong"}), "Unauthenticated")
	if out, err := d.Crictl(t, "pull", "--creds", testUser+":"+testPassword, ref); err != nil {
		t.Fatalf("crictl pull --creds: %v\n%s", err, out)
	}
	d.MustCrictl(t, "rmi", ref)
	encoded := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword))
	if err := pullWith(t, d, ref, &runtime.AuthConfig{Auth: encoded}); err != nil {
		t.Fatalf("pull with auth %q: %v", encoded, err)
	}
}

func TestPullWithBearerTokens(t *testing.T) {
	needRoot(t)
	// go-containerregistry accepts a loopback realm only on the registry's
	// own host:port, so the token service fronts the registry, as an ingress would.
	ts := startTokenServer(t)
	reg := startRegistry(t, ts.registryAuthYAML())
	ts.proxyTo(reg.Host)
	pushWithAuth(t, ts.host+"/private:1", busybox(t, ""), testUser, testPassword)
	d := startDaemon(t, fmt.Sprintf("[images]\nplain_http_registries = [%q]\n", ts.host))
	ref := ts.host + "/private:1"
	rmi := func() {
		if _, err := d.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
			t.Fatal(err)
		}
	}

	assertCode(t, pullWith(t, d, ref, nil), "Unauthenticated")
	// Username and password, exchanged for a bearer token at the realm.
	if err := pullWith(t, d, ref, &runtime.AuthConfig{Username: testUser, Password: testPassword}); err != nil {
		t.Fatalf("pull with a password for a token: %v", err)
	}
	rmi()
	// A registry token, sent as the bearer token itself.
	if err := pullWith(t, d, ref, &runtime.AuthConfig{RegistryToken: ts.token("private", "pull")}); err != nil {
		t.Fatalf("pull with a registry token: %v", err)
	}
	rmi()
	// An identity token, exchanged (OAuth2 refresh grant) for a bearer token.
	if err := pullWith(t, d, ref, &runtime.AuthConfig{IdentityToken: ts.refreshToken}); err != nil {
		t.Fatalf("pull with an identity token: %v", err)
	}
}

// pushAs pushes with basic credentials.
func (r *registry) pushAs(t testing.TB, repoTag string, img v1Image, user, password string) {
	t.Helper()
	pushWithAuth(t, r.Host+"/"+repoTag, img, user, password)
}

// tokenServer is a Docker registry token service (the bearer scheme of the
// distribution spec): it checks a password or a refresh token and issues
// ES256 JWTs signed by a key whose self-signed certificate the registry trusts.
type tokenServer struct {
	host, certPath, refreshToken string
	key                          *ecdsa.PrivateKey
	certDER                      []byte
	proxy                        atomic.Pointer[httputil.ReverseProxy] // to the registry, for every path but /token
}

const (
	tokenService = "runlet-test-registry"
	tokenIssuer  = "runlet-test-issuer"
)

func startTokenServer(t *testing.T) *tokenServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: tokenIssuer},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := shortTempDir(t)
	ts := &tokenServer{key: key, certDER: der, certPath: filepath.Join(dir, "root.pem"), refreshToken: "refresh-" + testUser}
	os.WriteFile(ts.certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.host = lis.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(ts.serve)}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *tokenServer) registryAuthYAML() string {
	return fmt.Sprintf("auth:\n  token:\n    realm: http://%s/token\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n",
		ts.host, tokenService, tokenIssuer, ts.certPath)
}

// proxyTo sends every request but /token to the registry at host.
func (ts *tokenServer) proxyTo(host string) {
	ts.proxy.Store(httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host}))
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		ts.serveToken(w, r)
		return
	}
	if p := ts.proxy.Load(); p != nil {
		p.ServeHTTP(w, r)
		return
	}
	http.Error(w, "no registry yet", http.StatusServiceUnavailable)
}

// serveToken answers GET (basic auth) and POST (refresh_token or password grant).
func (ts *tokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	user, pass, hasBasic := r.BasicAuth()
	ok := hasBasic && user == testUser && pass == testPassword
	if r.Method == http.MethodPost {
		switch r.PostForm.Get("grant_type") {
		case "refresh_token":
			ok = r.PostForm.Get("refresh_token") == ts.refreshToken
		case "password":
			ok = r.PostForm.Get("username") == testUser && r.PostForm.Get("password") == testPassword
		}
	}
	if !ok {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	var access []map[string]any
	for _, scope := range r.Form["scope"] {
		if parts := strings.Split(scope, ":"); len(parts) == 3 {
			access = append(access, map[string]any{"type": parts[0], "name": parts[1], "actions": strings.Split(parts[2], ",")})
		}
	}
	tok := ts.sign(access)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300, "refresh_token": ts.refreshToken})
}

// token is a bearer token for repo with actions ("pull", "pull,push").
func (ts *tokenServer) token(repo, actions string) string {
	return ts.sign([]map[string]any{{"type": "repository", "name": repo, "actions": strings.Split(actions, ",")}})
}

func (ts *tokenServer) sign(access []map[string]any) string {
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]any{"alg": "ES256", "typ": "JWT", "x5c": []string{base64.StdEncoding.EncodeToString(ts.certDER)}})
	claims, _ := json.Marshal(map[string]any{"iss": tokenIssuer, "sub": testUser, "aud": tokenService,
		"exp": now + 300, "nbf": now - 10, "iat": now, "jti": fmt.Sprint(now, len(access)), "access": access})
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	rr, ss, err := ecdsa.Sign(rand.Reader, ts.key, sum[:])
	if err != nil {
		panic(err)
	}
	sig := make([]byte, 64)
	rr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig)
}
