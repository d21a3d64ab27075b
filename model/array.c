/* Growing arrays (see array.h). */
#include "model/array.h"

#include <stdint.h>
#include <stdlib.h>

void *array_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
	if (n < *cap && arr)
		return arr;
	size_t ncap = *cap ? *cap * 2 : (first ? first : 1);
	if (ncap < *cap || (elem && ncap > SIZE_MAX / elem))
		return NULL;
	void *p = realloc(arr, ncap * elem);
	if (p)
		*cap = ncap;
	return p;
}
