package h5

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"github.com/rnnkit/rnnkit/internal/testutil"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// walkAll visits every object reachable from the root, reads every
// attribute and every dataset, and returns the first error.
func walkAll(f *File) (objects int, err error) { return walkOpt(f, false) }

// walkOpt is walkAll; with strict it also fails on unsupported data.
func walkOpt(f *File, strict bool) (objects int, err error) {
	seen := map[uint64]bool{}
	var walk func(g *Group) error
	readAttrs := func(attrs []*Attribute, err error) error {
		if err != nil {
			return err
		}
		for _, a := range attrs {
			if _, err := a.Value(); err != nil && !errors.Is(err, ErrUnsupported) {
				return err
			}
		}
		return nil
	}
	walk = func(g *Group) error {
		if seen[g.Addr()] {
			return nil
		}
		seen[g.Addr()] = true
		objects++
		if err := readAttrs(g.Attrs()); err != nil {
			return err
		}
		links, err := g.Links()
		if err != nil {
			return err
		}
		for _, l := range links {
			n := l.Name
			if l.Soft || l.External {
				// Objects are visited through hard links, as h5py's
				// visititems does; resolving soft links is tested apart.
				if _, err := g.Kind(n); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrUnsupported) {
					return err
				}
				continue
			}
			k, err := g.Kind(n)
			if err != nil {
				if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrNotFound) { // external or broken soft link
					continue
				}
				return err
			}
			switch k {
			case KindGroup:
				c, err := g.Group(n)
				if err != nil {
					return err
				}
				if err := walk(c); err != nil {
					return err
				}
			case KindDataset:
				d, err := g.Dataset(n)
				if err != nil {
					if errors.Is(err, ErrUnsupported) {
						continue
					}
					return err
				}
				if seen[d.Addr()] {
					continue
				}
				seen[d.Addr()] = true
				objects++
				if err := readAttrs(d.Attrs()); err != nil {
					return err
				}
				if err := readData(d); err != nil && (strict || !errors.Is(err, ErrUnsupported)) {
					return err
				}
			}
		}
		return nil
	}
	return objects, walk(f.Root())
}

// readData reads a dataset in the form its type suggests.
func readData(d *Dataset) error {
	t, _ := d.dtype.scalar()
	switch {
	case t.IsString:
		_, err := d.ReadStrings()
		return err
	case t.Class == ClassFloat:
		if _, err := d.ReadFloat32(); err != nil {
			return err
		}
		_, err := d.ReadFloat64()
		return err
	case t.Class == ClassInteger:
		if _, err := d.ReadInt64(); err != nil && !t.Signed {
			_, err = d.ReadFloat64()
			return err
		} else if err != nil {
			return err
		}
		_, err := d.ReadFloat32()
		return err
	}
	_, err := d.readRaw()
	return err
}

// sharedHDF5 lists every HDF5 file of the shared corpus (goldens,
// realworld, perf; testutil.SharedDir), including .h5 members of zip
// archives, as name → opener.
func sharedHDF5(t *testing.T) map[string]func() (*File, error) {
	root := testutil.SharedDir(t, "")
	out := map[string]func() (*File, error){}
	err := filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		head := make([]byte, 8)
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		n, _ := io.ReadFull(fh, head)
		fh.Close()
		head = head[:n]
		switch {
		case bytes.HasPrefix(head, []byte(signature)) || strings.HasSuffix(p, ".h5") || strings.HasSuffix(p, ".hdf5"):
			out[p] = func() (*File, error) { return Open(p) }
		case bytes.HasPrefix(head, []byte("PK\x03\x04")):
			zr, err := zip.OpenReader(p)
			if err != nil {
				return nil // not every zip is ours to check
			}
			defer zr.Close()
			for _, zf := range zr.File {
				if !strings.HasSuffix(zf.Name, ".h5") {
					continue
				}
				name := zf.Name
				out[p+"!"+name] = func() (*File, error) {
					zr, err := zip.OpenReader(p)
					if err != nil {
						return nil, err
					}
					defer zr.Close()
					for _, zf := range zr.File {
						if zf.Name == name {
							rc, err := zf.Open()
							if err != nil {
								return nil, err
							}
							defer rc.Close()
							b, err := io.ReadAll(rc)
							if err != nil {
								return nil, err
							}
							return OpenReaderAt(bytes.NewReader(b), int64(len(b)), p+"!"+name)
						}
					}
					return nil, fmt.Errorf("%s vanished", name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSharedFiles(t *testing.T) {
	files := sharedHDF5(t)
	if len(files) == 0 {
		t.Skip("no HDF5 files in the shared corpus")
	}
	total := 0
	for name, open := range files {
		f, err := open()
		if err != nil {
			t.Errorf("%s: open: %v", name, err)
			continue
		}
		n, err := walkAll(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if n < 2 {
			t.Errorf("%s: only %d objects", name, n)
		}
		total++
	}
	t.Logf("walked %d HDF5 files", total)
}
