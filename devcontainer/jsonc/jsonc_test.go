package jsonc

import "testing"

func TestParseAndStringify(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"b":1,"a":2}`, `{"b":1,"a":2}`},
		{`{"b":1,"8080":2,"3000":3,"a":4}`, `{"3000":3,"8080":2,"b":1,"a":4}`},
		{`{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
		{"// c\n{\"x\": [1, 2,], /* y */ \"s\": \"<&>\u2028\",}", `{"x":[1,2],"s":"<&>` + "\u2028" + `"}`},
		{`{"n":3.10,"e":1e21,"s":1.5e-7,"z":-0,"i":100}`, `{"n":3.1,"e":1e+21,"s":1.5e-7,"z":0,"i":100}`},
		{`{"c":"a\nb\u000b\"\\"}`, `{"c":"a\nb\u000b\"\\"}`},
		{`{"01":1,"1":2}`, `{"1":2,"01":1}`},
	}
	for _, c := range cases {
		v, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.in, err)
		}
		if got := Stringify(v); got != c.want {
			t.Errorf("Stringify(Parse(%q)) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	_, err := Parse([]byte("{\n  \"a\": 1\n  \"b\": 2\n}"))
	se, ok := err.(*SyntaxError)
	if !ok {
		t.Fatalf("got %T %v, want *SyntaxError", err, err)
	}
	if se.Line != 3 {
		t.Errorf("line = %d, want 3 (%v)", se.Line, se)
	}
}

func TestLines(t *testing.T) {
	v, err := Parse([]byte("{\n\"a\": 1,\n\n\"b\": {}\n}"))
	if err != nil {
		t.Fatal(err)
	}
	o := v.(*Object)
	if o.Line("a") != 2 || o.Line("b") != 4 {
		t.Errorf("lines a=%d b=%d, want 2 and 4", o.Line("a"), o.Line("b"))
	}
}
