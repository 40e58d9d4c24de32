package limits

import (
	"archive/zip"
	"errors"
	"strings"
	"testing"
)

func TestZipCheck(t *testing.T) {
	sentinel, format := errors.New("pkg: too large"), errors.New("pkg: bad format")
	z := Zip{MaxMember: 100 << 20, MaxTotal: 150 << 20, MaxRatio: 100, Option: "pkg.Options", Err: sentinel, FormatErr: format}
	f := func(name string, c, u uint64) *zip.File {
		return &zip.File{FileHeader: zip.FileHeader{Name: name, CompressedSize64: c, UncompressedSize64: u}}
	}
	for _, c := range []struct {
		files []*zip.File
		want  string // "" for no error
	}{
		{[]*zip.File{f("a", 1, RatioFloor)}, ""},
		{[]*zip.File{f("a", 1<<20, 100<<20)}, ""},
		{[]*zip.File{f("a", 1<<20, 100<<20+1)}, "MaxMemberBytes"},
		{[]*zip.File{f("a", 1<<10, RatioFloor+1)}, "MaxMemberRatio"},
		{[]*zip.File{f("a", 1<<20, 80<<20), f("b", 1<<20, 80<<20)}, "MaxArchiveBytes"},
		{[]*zip.File{f("a", 1, 1<<63)}, "MaxMemberBytes"},
	} {
		err := z.Check(c.files)
		if c.want == "" {
			if err != nil {
				t.Errorf("%v: %v", c.files[0].UncompressedSize64, err)
			}
			continue
		}
		var le *Error
		if !errors.Is(err, sentinel) || !errors.As(err, &le) || le.Field != c.want || !strings.Contains(err.Error(), "pkg.Options."+c.want) {
			t.Errorf("want %s, got %v", c.want, err)
		}
	}
	enc := f("secret", 1, 1)
	enc.Flags = 1
	if err := z.Check([]*zip.File{enc}); !errors.Is(err, format) || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted: %v", err)
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("9", 5000)
	if got := Truncate(long, 40); len(got) > 70 || !strings.Contains(got, "4960 more bytes") {
		t.Errorf("%q", got)
	}
	if got := Truncate("short", 40); got != "short" {
		t.Errorf("%q", got)
	}
	if got := Truncate("ééééé", 3); got != "é…(8 more bytes)" {
		t.Errorf("%q", got)
	}
}
