package kestra

import (
	"context"
	"iter"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// DefaultPageSize is the page size of every All method when the options
// leave Size at zero. List sends no size then, and Kestra pages by its own
// default (10).
const DefaultPageSize = 100

// ListOptions page a search. Every search options struct embeds it.
type ListOptions struct {
	// Page is the 1-based page List returns and All starts from; zero
	// means 1.
	Page int
	// Size is the number of items per page; zero means Kestra's default
	// (10) for List and [DefaultPageSize] for All.
	Size int
}

// query is the page part of a search's query: page, size and sort (fields
// joined by commas), refusing a page or size that does not fit Kestra's
// 32-bit integers. what names the options in errors.
func (o ListOptions) query(what string, sort []string) (url.Values, error) {
	q := url.Values{}
	for _, a := range [...]struct {
		name string
		v    int
	}{{"page", o.Page}, {"size", o.Size}} {
		if a.v <= 0 {
			continue
		}
		v, err := int32Arg(what+"."+strings.ToUpper(a.name[:1])+a.name[1:], a.v)
		if err != nil {
			return nil, err
		}
		q.Set(a.name, v)
	}
	if len(sort) > 0 {
		q.Set("sort", strings.Join(sort, ","))
	}
	return q, nil
}

// Page is one page of a search: [FlowsService.List],
// [ExecutionsService.List], [TriggersService.List].
type Page[T any] struct {
	// Items are the items of the page.
	Items []*T `json:"results"`
	// Total is the number of items that match the search, on all pages.
	Total int `json:"total"`
}

// searchOptions is the pointer to a search options struct: it embeds
// [ListOptions] and owns copies of its slices and maps after own.
type searchOptions[O any] interface {
	*O
	listOptions() *ListOptions
	own()
}

func (o *ListOptions) listOptions() *ListOptions { return o }

// all iterates over the items of the pages list returns for a copy of
// opts (nil: the zero options), from its page and with its size (zero:
// page 1, [DefaultPageSize]). Changing opts afterwards has no effect.
func all[T, O any, P searchOptions[O]](ctx context.Context, opts P, list func(context.Context, P) (*Page[T], error)) iter.Seq2[*T, error] {
	var o O
	if opts != nil {
		o = *opts
		P(&o).own()
	}
	lo := P(&o).listOptions()
	lo.Page = max(lo.Page, 1)
	if lo.Size <= 0 {
		lo.Size = DefaultPageSize
	}
	return pages(lo.Page, lo.Size, func(page int) ([]*T, int, error) {
		p := o
		P(&p).listOptions().Page = page
		res, err := list(ctx, &p)
		if err != nil {
			return nil, 0, err
		}
		return res.Items, res.Total, nil
	})
}

// filters builds Kestra's filters[field][OP]=value query. An empty value
// adds nothing.
type filters url.Values

// add adds filters[field][op]=value unless value is empty.
func (f filters) add(field, op, value string) {
	if value != "" {
		url.Values(f).Add("filters["+field+"]["+op+"]", value)
	}
}

// labels adds filters[labels][EQUALS][key]=value for each label.
func (f filters) labels(labels map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		url.Values(f).Add("filters[labels][EQUALS]["+k+"]", labels[k])
	}
}

// into adds the filters to q and returns q.
func (f filters) into(q url.Values) url.Values {
	for k, v := range f {
		q[k] = append(q[k], v...)
	}
	return q
}

// list runs the search at path and decodes one page of it, refusing a
// null item (what names the items in that error).
func list[T any](ctx context.Context, c *Client, path string, q url.Values, what string) (*Page[T], error) {
	var page Page[T]
	if err := c.run(ctx, &call{method: http.MethodGet, path: path, query: q, out: &page}); err != nil {
		return nil, err
	}
	if err := noNil(page.Items, what); err != nil {
		return nil, err
	}
	return &page, nil
}
