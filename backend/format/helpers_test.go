package format

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pgsafe/pgsafe/backend/keys"
)

// dumpLike returns exactly size bytes of deterministic text shaped like a plain-SQL
// pg_dump: DDL, then COPY blocks of rows with mixed types, realistic low-entropy columns
// (names, dates, numbers) and high-entropy ones (password hashes, UUIDs, tokens).
func dumpLike(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	b.Grow(size + 4096)
	b.WriteString(`--
-- PostgreSQL database dump
--

-- Dumped from database version 15.8 (Debian 15.8-0+deb12u1)
-- Dumped by pg_dump version 15.8 (Debian 15.8-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: customer; Type: TABLE; Schema: public; Owner: shop
--

CREATE TABLE public.customer (
    customer_id bigint NOT NULL,
    email text NOT NULL,
    full_name text NOT NULL,
    city text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    balance numeric(12,2) DEFAULT 0 NOT NULL,
    active boolean DEFAULT true NOT NULL,
    password_hash text NOT NULL,
    api_token uuid,
    notes text
);


ALTER TABLE public.customer OWNER TO shop;

--
-- Data for Name: customer; Type: TABLE DATA; Schema: public; Owner: shop
--

COPY public.customer (customer_id, email, full_name, city, created_at, balance, active, password_hash, api_token, notes) FROM stdin;
`)
	first := []string{"Anna", "Bruno", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko", "Lars", "María", "Nils", "Olga", "Pedro", "Qing", "Rosa", "Sven", "Tariq", "Ute", "Vera", "Wim", "Ximena", "Yusuf", "Zoë"}
	last := []string{"Andersson", "Bianchi", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen", "Kowalski", "Larsen", "Müller", "Novak", "O'Brien", "Petrov", "Rossi", "Schmidt", "Tanaka", "Urban", "Virtanen", "Weber", "Yilmaz", "Zhang"}
	cities := []string{"Berlin", "Lisboa", "Kraków", "Osaka", "Montréal", "São Paulo", "Nairobi", "Tallinn", "Reykjavík", "Zürich", `\N`}
	words := strings.Fields("order shipped late again customer asked for refund of the invoice please call back before noon new address confirmed VIP discount applied payment pending card declined twice gift wrap requested")
	const b64 = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	ts := int64(1_700_000_000)
	id := 0
	footer := "\\.\n\n\n--\n-- PostgreSQL database dump complete\n--\n\n"
	for b.Len() < size-len(footer)-400 {
		id++
		ts += rng.Int64N(90)
		f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		fmt.Fprintf(&b, "%d\t%s.%s%d@example.com\t%s %s\t%s\t", id, strings.ToLower(f[:1]), strings.ToLower(strings.ReplaceAll(l, "'", "")), rng.IntN(100), f, strings.ReplaceAll(l, "'", "''"), cities[rng.IntN(len(cities))])
		fmt.Fprintf(&b, "2023-%02d-%02d %02d:%02d:%02d+00\t%d.%02d\t%c\t$2b$12$", 1+ts/2_600_000%12, 1+ts/86400%28, ts/3600%24, ts/60%60, ts%60, rng.IntN(5000), rng.IntN(100), "tf"[rng.IntN(2)])
		for range 53 {
			b.WriteByte(b64[rng.IntN(len(b64))])
		}
		b.WriteByte('\t')
		if rng.IntN(4) == 0 {
			b.WriteString(`\N`)
		} else {
			var u [16]byte
			for i := range u {
				u[i] = byte(rng.Uint32())
			}
			h := hex.EncodeToString(u[:])
			b.WriteString(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
		}
		b.WriteByte('\t')
		if n := rng.IntN(12); n < 3 {
			b.WriteString(`\N`)
		} else {
			for j := range n {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(words[rng.IntN(len(words))])
			}
		}
		b.WriteByte('\n')
	}
	b.WriteString(footer)
	// Pad to the exact size with a SQL comment line.
	if pad := size - b.Len(); pad > 0 {
		b.WriteString("--")
		b.WriteString(strings.Repeat(" ", max(pad-3, 0)))
		b.WriteString("\n")
	}
	return b.Bytes()[:size]
}

// parseKeyFile reads a key file as docs/FORMAT.md ("Key file") specifies. backend/keys
// owns the real loader; this one keeps the test vector honest about the spec.
func parseKeyFile(data []byte) (*keys.MasterKey, error) {
	if len(data) > 4096 {
		return nil, errors.New("key file larger than 4096 bytes")
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var fields = map[string]string{}
	for line := 0; sc.Scan(); line++ {
		s := strings.TrimRight(strings.TrimSuffix(sc.Text(), "\r"), " \t")
		if line == 0 {
			if s != "PGSAFE-KEY-1" {
				return nil, fmt.Errorf("first line %q, want PGSAFE-KEY-1", s)
			}
			continue
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, value, ok := strings.Cut(s, ": ")
		if !ok || (name != "id" && name != "key") {
			return nil, fmt.Errorf("bad line %q", s)
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("field %s repeated", name)
		}
		fields[name] = value
	}
	raw, err := hex.DecodeString(fields["key"])
	if err != nil || len(raw) != keys.MasterKeySize {
		return nil, fmt.Errorf("key: want %d hex digits", 2*keys.MasterKeySize)
	}
	id, err := keys.ParseKeyID(fields["id"])
	if err != nil || len(fields["id"]) != 2*keys.KeyIDSize {
		return nil, fmt.Errorf("id: %v", err)
	}
	mk, err := keys.MasterKeyFromBytes(raw)
	if err != nil {
		return nil, err
	}
	if mk.ID() != id {
		return nil, fmt.Errorf("key file is damaged: its key has ID %s but the file says %s", mk.ID(), id)
	}
	return mk, nil
}

// formatKeyFile writes a key file exactly as FORMAT.md says writers do.
func formatKeyFile(mk *keys.MasterKey) []byte {
	return []byte("PGSAFE-KEY-1\n" +
		"# PgSafe master key. Anyone with this file can read your backups: keep it secret.\n" +
		"id: " + mk.ID().String() + "\n" +
		"key: " + hex.EncodeToString(mk.Bytes()) + "\n")
}

// testKey returns a fixed master key derived from a name.
func testKey(t testing.TB, name string) *keys.MasterKey {
	t.Helper()
	b := make([]byte, 32)
	copy(b, name)
	mk, err := keys.MasterKeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// encrypt returns plain encrypted under mk with chunk size cs and compression c.
func encrypt(t testing.TB, mk *keys.MasterKey, plain []byte, cs int, c Compression) []byte {
	t.Helper()
	var buf bytes.Buffer
	id, _ := NewBackupID()
	w, err := NewWriter(&buf, mk, Header{BackupID: id, ChunkSize: cs, Compression: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decrypt reads a whole file with small, uneven reads and returns what the reader
// released before the first error.
func decrypt(file []byte, kr keys.Keyring) ([]byte, Header, error) {
	r, h, err := NewReader(bytes.NewReader(file), kr)
	if err != nil {
		return nil, h, err
	}
	var out []byte
	buf := make([]byte, 7919)
	for i := 0; ; i++ {
		n, err := r.Read(buf[:1+i*4099%len(buf)])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, h, nil
		}
		if err != nil {
			return out, h, err
		}
	}
}
