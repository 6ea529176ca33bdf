package kestra

import "iter"

// pages iterates over the items of consecutive pages of size items,
// starting at page first (1-based). fetch returns one page's items and the
// number of items on all pages. The iteration ends after a short page,
// once every item is seen, when the loop breaks, or on an error, which is
// yielded once with a zero item. Each range over the sequence starts again
// at page first.
func pages[T any](first, size int, fetch func(page int) ([]T, int, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := (first - 1) * size
		for page := first; ; page++ {
			items, total, err := fetch(page)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			seen += len(items)
			if len(items) < size || seen >= total {
				return
			}
		}
	}
}
