package h5

import (
	"fmt"
	"sort"
	"strings"
)

// Kind tells what a link points at.
type Kind int

// Object kinds.
const (
	KindGroup Kind = iota
	KindDataset
	KindDatatype // committed (named) datatype
)

// String returns "group", "dataset" or "datatype".
func (k Kind) String() string {
	switch k {
	case KindGroup:
		return "group"
	case KindDataset:
		return "dataset"
	case KindDatatype:
		return "datatype"
	}
	return "unknown"
}

func kindName(k Kind, ok bool) string {
	if !ok {
		return "object of unknown kind"
	}
	return k.String()
}

// object is what groups and datasets share: a path and an object header.
type object struct {
	f    *File
	path string
	addr uint64
}

// header returns the object header from the file's cache (not kept in the
// object, so that one *Group or *Dataset can be used from many goroutines).
func (o *object) header() (*objectHeader, error) {
	return o.f.header(o.addr, o.path)
}

// Addr returns the object header address, which identifies the object (two
// paths reaching the same address are hard links to one object).
func (o *object) Addr() uint64 { return o.addr }

// Path returns the object's absolute HDF5 path, e.g. "/model_weights/lstm".
func (o *object) Path() string { return o.path }

// Attrs returns the object's attributes in file order.
func (o *object) Attrs() ([]*Attribute, error) {
	h, err := o.header()
	if err != nil {
		return nil, err
	}
	return o.f.attributes(h, o.path)
}

// Attr returns the named attribute; the error wraps ErrNotFound if absent.
func (o *object) Attr(name string) (*Attribute, error) {
	attrs, err := o.Attrs()
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, o.f.notFound(o.path, "attribute "+name)
}

func kindOf(h *objectHeader) (Kind, bool) {
	switch {
	case h.find(msgLayout) != nil:
		return KindDataset, true
	case h.find(msgSymbolTable) != nil || h.find(msgLinkInfo) != nil || h.find(msgLink) != nil || h.find(msgGroupInfo) != nil:
		return KindGroup, true
	case h.find(msgDatatype) != nil:
		return KindDatatype, true
	}
	return 0, false // no message that tells
}

// Group is an HDF5 group.
type Group struct {
	obj object
}

// Path returns the group's absolute path ("/" for the root).
func (g *Group) Path() string { return g.obj.path }

// Addr returns the group's object header address.
func (g *Group) Addr() uint64 { return g.obj.addr }

// Attrs returns the group's attributes in file order.
func (g *Group) Attrs() ([]*Attribute, error) { return g.obj.Attrs() }

// Attr returns the named attribute of the group; the error wraps ErrNotFound
// when it is absent.
func (g *Group) Attr(name string) (*Attribute, error) { return g.obj.Attr(name) }

// Members returns the names of the group's links in the file's order: name
// order for symbol-table groups and name-indexed links, creation order when
// the group tracks it.
func (g *Group) Members() ([]string, error) {
	links, err := g.links()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.name
	}
	return names, nil
}

// Link describes one member of a group as stored: a hard link to an
// object, a soft link (a path) or an external link (another file).
type Link struct {
	Name     string
	Soft     bool
	External bool
	Target   string // soft link path
}

// Links returns the group's links in the same order as Members, without
// resolving them (listings show soft links as such, like h5ls).
func (g *Group) Links() ([]Link, error) {
	links, err := g.links()
	if err != nil {
		return nil, err
	}
	out := make([]Link, len(links))
	for i, l := range links {
		out[i] = Link{Name: l.name, Soft: l.soft, External: l.external, Target: l.target}
	}
	return out, nil
}

// Kind reports whether the member name (a relative path) is a group or a
// dataset.
func (g *Group) Kind(name string) (Kind, error) {
	o, err := g.resolve(name)
	if err != nil {
		return 0, err
	}
	h, err := o.header()
	if err != nil {
		return 0, err
	}
	k, ok := kindOf(h)
	if !ok {
		return 0, g.obj.f.formatErr(o.path, "object header", -1, "object is neither a group nor a dataset")
	}
	return k, nil
}

// Group opens the group at path, relative to g unless it starts with "/".
func (g *Group) Group(path string) (*Group, error) {
	o, err := g.resolve(path)
	if err != nil {
		return nil, err
	}
	h, err := o.header()
	if err != nil {
		return nil, err
	}
	if k, ok := kindOf(h); !ok || k != KindGroup {
		return nil, g.obj.f.formatErr(o.path, "object header", -1, "object is a %s, want a group", kindName(k, ok))
	}
	return &Group{obj: *o}, nil
}

// Dataset opens the dataset at path, relative to g unless it starts with "/".
func (g *Group) Dataset(path string) (*Dataset, error) {
	o, err := g.resolve(path)
	if err != nil {
		return nil, err
	}
	return openDataset(o)
}

// link is one group member.
type link struct {
	name     string
	soft     bool
	external bool
	addr     uint64
	target   string // soft link target
	crtOrder int64
}

func (g *Group) links() ([]link, error) {
	f := g.obj.f
	f.mu.Lock()
	l, ok := f.linkCache[g.obj.addr]
	f.mu.Unlock()
	if ok {
		return l, nil
	}
	h, err := g.obj.header()
	if err != nil {
		return nil, err
	}
	l, err = f.readLinks(h, g.obj.path)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.linkCache[g.obj.addr] = l
	f.mu.Unlock()
	return l, nil
}

func (f *File) readLinks(h *objectHeader, path string) ([]link, error) {
	if m := h.find(msgSymbolTable); m != nil {
		c := f.newCursor(m.data, m.off, path, "symbol table message")
		bt := c.addr()
		heap := c.addr()
		if c.err != nil {
			return nil, c.err
		}
		return f.symbolTableLinks(bt, heap, path)
	}
	tracked := false
	var links []link
	if m := h.find(msgLinkInfo); m != nil {
		c := f.newCursor(m.data, m.off, path, "link info message")
		if v := c.u8(); v != 0 && c.err == nil {
			c.fail("version %d, want 0", v)
		}
		flags := c.u8()
		if flags&1 != 0 {
			tracked = true
			c.skip(8)
		}
		heap := c.addr()
		nameIndex := c.addr()
		if c.err != nil {
			return nil, c.err
		}
		if heap != undef {
			var err error
			links, err = f.denseLinks(heap, nameIndex, path)
			if err != nil {
				return nil, err
			}
		}
	}
	for i := range h.msgs {
		if h.msgs[i].typ != msgLink {
			continue
		}
		l, err := f.parseLink(h.msgs[i].data, h.msgs[i].off, path)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	if tracked {
		sort.SliceStable(links, func(i, j int) bool { return links[i].crtOrder < links[j].crtOrder })
	} else {
		sort.SliceStable(links, func(i, j int) bool { return links[i].name < links[j].name })
	}
	return links, nil
}

// parseLink decodes a link message (Spec IV.A.2.g).
func (f *File) parseLink(b []byte, off int64, path string) (link, error) {
	var l link
	c := f.newCursor(b, off, path, "link message")
	if v := c.u8(); v != 1 && c.err == nil {
		c.fail("version %d, want 1", v)
	}
	flags := c.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = c.u8()
	}
	if flags&0x04 != 0 {
		l.crtOrder = int64(c.u64())
	}
	if flags&0x10 != 0 {
		c.u8() // charset
	}
	n := c.uN(1 << (flags & 3))
	if c.err == nil && (n == 0 || n > uint64(c.left())) {
		c.fail("link name length %d with %d bytes left", n, c.left())
	}
	if c.err != nil {
		return l, c.err
	}
	l.name = string(c.bytes(int(n)))
	switch typ {
	case 0:
		l.addr = c.addr()
	case 1:
		ln := int(c.u16())
		l.soft = true
		l.target = string(c.bytes(ln))
	case 64:
		l.external = true
	default:
		c.fail("link type %d", typ)
	}
	return l, c.err
}

// symbolTableLinks walks a group's v1 B-tree (type 0) and symbol nodes.
func (f *File) symbolTableLinks(btree, heapAddr uint64, path string) ([]link, error) {
	heap, err := f.localHeap(heapAddr, path)
	if err != nil {
		return nil, err
	}
	var links []link
	seen := map[uint64]bool{}
	err = f.walkBTree1(btree, 0, path, seen, maxDepth, -1, func(child uint64, key []byte) error {
		const st = "symbol table node"
		if seen[child] {
			return f.formatErr(path, st, -1, "node 0x%x visited twice", child)
		}
		seen[child] = true
		pre, off, err := f.read(child, 8, path, st)
		if err != nil {
			return err
		}
		c := f.newCursor(pre, off, path, st)
		c.signature("SNOD")
		if v := c.u8(); v != 1 && c.err == nil {
			c.fail("version %d, want 1", v)
		}
		c.skip(1)
		n := uint64(c.u16())
		if c.err != nil {
			return c.err
		}
		entry := uint64(2*f.sizeOffsets + 24)
		b, off, err := f.read(child, 8+n*entry, path, st)
		if err != nil {
			return err
		}
		c = f.newCursor(b, off, path, st)
		c.pos = 8
		for i := uint64(0); i < n && c.err == nil; i++ {
			nameOff := c.addr()
			addr := c.addr()
			cache := c.u32()
			c.skip(4)
			scratch := c.bytes(16)
			name, ok := heapString(heap, nameOff)
			if !ok {
				c.fail("link name offset %d outside the local heap (%d bytes)", nameOff, len(heap))
				break
			}
			l := link{name: name, addr: addr}
			if cache == 2 && c.err == nil {
				// Soft link: scratch holds the offset of the target in the heap.
				t, ok := heapString(heap, uint64(scratch[0])|uint64(scratch[1])<<8|uint64(scratch[2])<<16|uint64(scratch[3])<<24)
				if !ok {
					c.fail("soft link target outside the local heap")
					break
				}
				l.soft, l.target = true, t
			}
			links = append(links, l)
		}
		return c.err
	})
	return links, err
}

func heapString(heap []byte, off uint64) (string, bool) {
	if off >= uint64(len(heap)) {
		return "", false
	}
	s := heap[off:]
	i := strings.IndexByte(string(s), 0)
	if i < 0 {
		return "", false
	}
	return string(s[:i]), true
}

// walkBTree1 visits the leaf children of a version 1 B-tree (Spec III.A.1) in
// key order. For node type 1 (chunks), ndims+1 is the number of offsets per
// key; for groups pass -1. fn receives each level-0 child and the key before it.
func (f *File) walkBTree1(addr uint64, wantType int, path string, seen map[uint64]bool, depth int, ndims int, fn func(child uint64, key []byte) error) error {
	const st = "v1 B-tree"
	if depth <= 0 {
		return f.formatErr(path, st, -1, "tree deeper than %d levels", maxDepth)
	}
	if seen[addr] {
		return f.formatErr(path, st, -1, "node 0x%x visited twice", addr)
	}
	seen[addr] = true
	hdrLen := uint64(8 + 2*f.sizeOffsets)
	pre, off, err := f.read(addr, hdrLen, path, st)
	if err != nil {
		return err
	}
	c := f.newCursor(pre, off, path, st)
	c.signature("TREE")
	typ := int(c.u8())
	level := int(c.u8())
	n := uint64(c.u16())
	if c.err == nil && typ != wantType {
		c.fail("node type %d, want %d", typ, wantType)
	}
	if c.err != nil {
		return c.err
	}
	keyLen := uint64(f.sizeLengths)
	if typ == 1 {
		keyLen = uint64(8 + 8*(ndims+1))
	}
	b, off, err := f.read(addr, hdrLen+(n+1)*keyLen+n*uint64(f.sizeOffsets), path, st)
	if err != nil {
		return err
	}
	c = f.newCursor(b, off, path, st)
	c.pos = int(hdrLen)
	for i := uint64(0); i < n; i++ {
		key := c.bytes(int(keyLen))
		child := c.addr()
		if c.err != nil {
			return c.err
		}
		if level > 0 {
			if err := f.walkBTree1(child, wantType, path, seen, depth-1, ndims, fn); err != nil {
				return err
			}
		} else if err := fn(child, key); err != nil {
			return err
		}
	}
	return nil
}

// resolve follows a relative or absolute path from g to an object. The
// object's path is the one asked for, even through soft links (as h5py's
// name), while errors name the link where resolution failed.
func (g *Group) resolve(p string) (*object, error) {
	f := g.obj.f
	type part struct {
		name string
		user bool // from p, not from a soft link target
	}
	hops := 0
	cur := g.obj
	display := g.obj.path
	if strings.HasPrefix(p, "/") {
		cur = f.Root().obj
		display = "/"
	}
	var parts []part
	for _, s := range splitPath(p) {
		parts = append(parts, part{s, true})
	}
	for len(parts) > 0 {
		pt := parts[0]
		parts = parts[1:]
		name := pt.name
		gr := &Group{obj: cur}
		h, err := cur.header()
		if err != nil {
			return nil, err
		}
		if k, ok := kindOf(h); !ok || k != KindGroup {
			return nil, f.notFound(cur.path, "member "+name+" (not a group)")
		}
		links, err := gr.links()
		if err != nil {
			return nil, err
		}
		var l *link
		for i := range links {
			if links[i].name == name {
				l = &links[i]
				break
			}
		}
		child := joinPath(cur.path, name)
		if pt.user {
			display = joinPath(display, name)
		}
		if l == nil {
			return nil, f.notFound(child, "no such member")
		}
		switch {
		case l.external:
			return nil, f.unsupported(child, "external link")
		case l.soft:
			hops++
			if hops > maxLinkHops {
				// HDF5 allows soft-link cycles; resolving one finds nothing.
				return nil, fmt.Errorf("h5: %s: %s: soft link loop (more than %d links followed): %w", f.name, child, maxLinkHops, ErrNotFound)
			}
			var tp []part
			for _, s := range splitPath(l.target) {
				tp = append(tp, part{s, false})
			}
			if strings.HasPrefix(l.target, "/") {
				cur = f.Root().obj
			}
			parts = append(tp, parts...)
			continue
		}
		cur = object{f: f, path: child, addr: l.addr}
	}
	cur.path = display
	return &cur, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}
