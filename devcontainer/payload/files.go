package payload

// FromFiles makes a tree of entries listed by someone else (for example a
// folder read through the BuildKit gateway), with the limits and link
// checks of ReadDir and ReadArchive, so that the same files give the same
// Digest whichever way they were read. Paths are slash-separated and
// relative; parent directories are implied.
func FromFiles(files []File, l Limits) (*Tree, error) {
	b := newBuilder(l)
	for _, f := range files {
		name, err := cleanName(f.Path)
		if err != nil {
			return nil, err
		}
		f.Path = name
		if err := b.add(f); err != nil {
			return nil, err
		}
	}
	return b.tree(), nil
}
