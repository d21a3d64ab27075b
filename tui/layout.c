/* The console's layout as pure functions (see layout.h). */
#include "tui/layout.h"

struct frame layout_frame(int rows, int cols)
{
	struct frame f = { 0 };
	if (rows < LAYOUT_MIN_ROWS || cols < LAYOUT_MIN_COLS) {
		f.too_small = true;
		f.body = (struct rect){ 0, 0, rows > 0 ? rows : 0, cols > 0 ? cols : 0 };
		return f;
	}
	f.header = (struct rect){ 0, 0, 1, cols };
	f.tabs = (struct rect){ 1, 0, 1, cols };
	f.body = (struct rect){ 2, 0, rows - 4, cols };
	f.status = (struct rect){ rows - 2, 0, 1, cols };
	f.hints = (struct rect){ rows - 1, 0, 1, cols };
	return f;
}

size_t layout_columns(const struct layout_col *cols, size_t n, int width, int gap, int *widths)
{
	for (size_t i = 0; i < n; i++)
		widths[i] = 0;
	/* Show columns priority by priority while their minimum widths (and gaps) fit. */
	int used = 0;
	size_t shown = 0;
	int maxprio = 0;
	for (size_t i = 0; i < n; i++)
		if (cols[i].priority > maxprio)
			maxprio = cols[i].priority;
	for (int p = 0; p <= maxprio; p++) {
		for (size_t i = 0; i < n; i++) {
			if (cols[i].priority != p)
				continue;
			int need = cols[i].min + (shown ? gap : 0);
			if (used + need > width)
				goto spread; /* a lower priority never jumps ahead of a higher one */
			widths[i] = cols[i].min;
			used += need;
			shown++;
		}
	}
spread:
	/* The spare width goes to the growing columns by their shares, up to their maximums. */
	for (;;) {
		int spare = width - used, shares = 0;
		if (spare <= 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (widths[i] && cols[i].grow && (!cols[i].max || widths[i] < cols[i].max))
				shares += cols[i].grow;
		if (!shares)
			break;
		int given = 0;
		for (size_t i = 0; i < n && given < spare; i++) {
			if (!widths[i] || !cols[i].grow || (cols[i].max && widths[i] >= cols[i].max))
				continue;
			int add = spare * cols[i].grow / shares;
			if (add < 1)
				add = 1;
			if (add > spare - given)
				add = spare - given;
			if (cols[i].max && widths[i] + add > cols[i].max)
				add = cols[i].max - widths[i];
			widths[i] += add;
			given += add;
		}
		used += given;
		if (!given)
			break;
	}
	return shown;
}

void layout_scroll(size_t n, int visible, size_t *selected, size_t *top)
{
	if (n == 0) {
		*selected = 0;
		*top = 0;
		return;
	}
	if (*selected >= n)
		*selected = n - 1;
	size_t vis = visible > 0 ? (size_t)visible : 1;
	if (*selected < *top)
		*top = *selected;
	else if (*selected >= *top + vis)
		*top = *selected - vis + 1;
	/* no empty space below the last row when the list could fill the screen */
	if (n >= vis && *top > n - vis)
		*top = n - vis;
	if (n < vis)
		*top = 0;
}
