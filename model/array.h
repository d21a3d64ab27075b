/* Growing arrays: the one place that doubles an array's capacity (the store, the poll, the
 * console's lists and the exports all grow arrays an element at a time). */
#ifndef FLEETCON_MODEL_ARRAY_H
#define FLEETCON_MODEL_ARRAY_H

#include <stddef.h>

/* Room for element n of an array of elem-byte elements with capacity *cap: returns arr itself
 * when n < *cap, else arr reallocated to twice its capacity (`first` elements the first time) and
 * *cap updated. NULL when out of memory or the size would overflow; arr and *cap are then as they
 * were, still the caller's. */
void *array_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first);

#endif
