package images

// lease keeps layers and content blobs from garbage collection while a pull
// or import that needs them is in flight: it writes them before the image
// record that will reference them.
func (s *Service) lease(diffIDs, blobs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range diffIDs {
		s.leases[d]++
	}
	for _, b := range blobs {
		s.blobLeases[b]++
	}
}

func (s *Service) unlease(diffIDs, blobs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	release(s.leases, diffIDs)
	release(s.blobLeases, blobs)
}

func release(counts map[string]int, keys []string) {
	for _, k := range keys {
		if counts[k]--; counts[k] <= 0 {
			delete(counts, k)
		}
	}
}
