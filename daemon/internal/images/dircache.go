package images

import "container/list"

// maxOpenDirs bounds the directory descriptors one layer's unpack keeps
// open, however many directories the layer has.
const maxOpenDirs = 64

// dirCache holds the most recently used open directories of a layer and
// closes the least recently used one beyond its capacity. The entry just
// returned by get or put is never the one evicted next, so a caller may use
// a directory across one more lookup (a hardlink's source and target).
type dirCache struct {
	cap   int
	order *list.List               // of *cachedDir, most recent first
	byRel map[string]*list.Element // rel -> element of order
}

type cachedDir struct {
	rel string
	d   *parentDir
}

func newDirCache(capacity int) *dirCache {
	return &dirCache{cap: capacity, order: list.New(), byRel: map[string]*list.Element{}}
}

func (c *dirCache) get(rel string) (*parentDir, bool) {
	e, ok := c.byRel[rel]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedDir).d, true
}

func (c *dirCache) put(rel string, d *parentDir) {
	c.byRel[rel] = c.order.PushFront(&cachedDir{rel: rel, d: d})
	for c.order.Len() > c.cap {
		last := c.order.Back()
		cd := c.order.Remove(last).(*cachedDir)
		delete(c.byRel, cd.rel)
		cd.d.f.Close()
	}
}

// clear closes every cached directory.
func (c *dirCache) clear() {
	for e := c.order.Front(); e != nil; e = e.Next() {
		e.Value.(*cachedDir).d.f.Close()
	}
	c.order.Init()
	clear(c.byRel)
}

func (c *dirCache) len() int { return c.order.Len() }
