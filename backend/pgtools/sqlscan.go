package pgtools

import (
	"strings"
)

// Statement is one SQL statement of pg_dump, pg_dumpall or pg_restore
// output, without its trailing semicolon and comments around it.
type Statement struct {
	Text string
}

// SplitStatements splits SQL as PostgreSQL's dump tools print it into
// statements: a semicolon outside string literals (standard, E'…' and
// dollar-quoted), quoted identifiers and comments ends one. psql
// meta-commands (`\restrict …`, `\connect …`) at the start of a line are
// dropped.
func SplitStatements(sql string) []Statement {
	var out []Statement
	start := 0
	emit := func(end int) {
		text := strings.TrimSpace(stripComments(sql[start:end]))
		if text != "" {
			out = append(out, Statement{Text: text})
		}
	}
	i := 0
	atLineStart := true
	for i < len(sql) {
		c := sql[i]
		if atLineStart && c == '\\' { // a psql meta-command: the rest of the line
			emit(i)
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 1
			}
			start = i
			continue
		}
		atLineStart = false
		switch {
		case c == '\n':
			atLineStart = true
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				i = len(sql)
			} else {
				i += j // the newline starts the next line
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				i = len(sql)
			} else {
				i += j + 4
			}
		case c == '\'':
			escapes := i > 0 && (sql[i-1] == 'E' || sql[i-1] == 'e') && (i < 2 || !isIdentByte(sql[i-2]))
			i = skipString(sql, i, escapes)
		case c == '"':
			i = skipQuoted(sql, i, '"')
		case c == '$':
			if tag, ok := dollarTag(sql[i:]); ok && (i == 0 || !isIdentByte(sql[i-1])) {
				j := strings.Index(sql[i+len(tag):], tag)
				if j < 0 {
					i = len(sql)
				} else {
					i += len(tag) + j + len(tag)
				}
			} else {
				i++
			}
		case c == ';':
			emit(i)
			i++
			start = i
		default:
			i++
		}
	}
	emit(len(sql))
	return out
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// skipString returns the index after the string literal starting at i.
func skipString(s string, i int, backslashEscapes bool) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslashEscapes {
				j++
			}
		case '\'':
			if j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// skipQuoted returns the index after the quoted identifier starting at i.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] == q {
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// dollarTag reads "$tag$" or "$$" at the start of s.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[:j+1], true
		}
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || j > 1 && c >= '0' && c <= '9') {
			return "", false
		}
	}
	return "", false
}

// stripComments drops whole comment lines ("-- …") at the start of a
// statement's text (pg_dump puts one before most statements).
func stripComments(s string) string {
	for {
		t := strings.TrimLeft(s, " \t\r\n")
		if !strings.HasPrefix(t, "--") {
			return t
		}
		j := strings.IndexByte(t, '\n')
		if j < 0 {
			return ""
		}
		s = t[j+1:]
	}
}

// Token is one lexical token of a statement: Start and End are byte offsets
// in the statement's text.
type Token struct {
	Kind       TokenKind
	Text       string // as written
	Start, End int
}

// TokenKind is a token's kind.
type TokenKind int

const (
	TokWord   TokenKind = iota // a keyword or unquoted identifier
	TokQuoted                  // a double-quoted identifier
	TokString                  // a string literal
	TokPunct                   // anything else, one byte
)

// Ident is the identifier a word or quoted token names: unquoted words fold
// to lower case, quoted ones lose their quotes.
func (t Token) Ident() string {
	if t.Kind == TokQuoted {
		return strings.ReplaceAll(t.Text[1:len(t.Text)-1], `""`, `"`)
	}
	return strings.ToLower(t.Text)
}

// Is says whether the token is the keyword kw (case-insensitive, unquoted).
func (t Token) Is(kw string) bool { return t.Kind == TokWord && strings.EqualFold(t.Text, kw) }

// Tokenize splits a statement into tokens (comments and white space dropped).
func Tokenize(s string) []Token {
	var out []Token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j + 1
			}
		case c == '"':
			j := skipQuoted(s, i, '"')
			out = append(out, Token{Kind: TokQuoted, Text: s[i:j], Start: i, End: j})
			i = j
		case c == '\'':
			j := skipString(s, i, false)
			out = append(out, Token{Kind: TokString, Text: s[i:j], Start: i, End: j})
			i = j
		case c == '$':
			if tag, ok := dollarTag(s[i:]); ok {
				k := strings.Index(s[i+len(tag):], tag)
				j := len(s)
				if k >= 0 {
					j = i + len(tag) + k + len(tag)
				}
				out = append(out, Token{Kind: TokString, Text: s[i:j], Start: i, End: j})
				i = j
				continue
			}
			out = append(out, Token{Kind: TokPunct, Text: "$", Start: i, End: i + 1})
			i++
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			if j < len(s) && s[j] == '\'' && j-i == 1 && (c == 'E' || c == 'e') { // E'…'
				k := skipString(s, j, true)
				out = append(out, Token{Kind: TokString, Text: s[i:k], Start: i, End: k})
				i = k
				continue
			}
			out = append(out, Token{Kind: TokWord, Text: s[i:j], Start: i, End: j})
			i = j
		default:
			out = append(out, Token{Kind: TokPunct, Text: s[i : i+1], Start: i, End: i + 1})
			i++
		}
	}
	return out
}

// QuoteIdent quotes an identifier the way pg_dump does: bare when it is a
// lower-case simple name, double-quoted otherwise. (Reserved words are
// quoted too, which the caller's keyword list may not know; quoting an
// identifier that needs none is always correct.)
func QuoteIdent(name string) string {
	simple := name != ""
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '$')) {
			simple = false
			break
		}
	}
	if simple && !reservedRoleWords[name] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// reservedRoleWords are words that cannot stand bare for a role name.
var reservedRoleWords = map[string]bool{
	"all": true, "user": true, "public": true, "current_user": true, "session_user": true,
	"current_role": true, "none": true, "to": true, "from": true, "with": true, "group": true,
	"role": true, "on": true, "in": true, "for": true, "grant": true, "granted": true, "cascade": true,
	"restrict": true, "option": true, "using": true, "check": true, "table": true, "order": true,
	"select": true, "default": true, "authorization": true, "admin": true,
}
