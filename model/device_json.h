/* A device as JSON (jansson): the one serializer behind `fleetcon show --json` and the devices of
 * the daily report, so that both speak exactly the same format. The format is documented in
 * docs/report-format.md ("The device object"); its key names are an interface. */
#ifndef FLEETCON_MODEL_DEVICE_JSON_H
#define FLEETCON_MODEL_DEVICE_JSON_H

#include <jansson.h>

#include "model/device.h"

/* Returns a new JSON object describing d (the caller owns the reference and json_decref()s it),
 * or NULL when out of memory. Everything is copied; d is only read. low_percent is the
 * configuration's [alerts] supply_low, which decides each supply's "state".
 *
 * Keys, always present (null when the device did not report the value):
 *   id, address, port, vendor, model, serial, mac, firmware, sys_name, sys_descr, sys_object_id,
 *   location, uptime_ticks, included, first_seen, last_seen, last_poll, last_poll_ok, poll_error,
 *   unreachable_polls, poll_warnings,
 *   status {device, printer, errors[], errors_known, panel},
 *   meters {total, black, color, sources[{name, value, unit, oid, raw, read_at, back_from,
 *           back_at}]},
 *   supplies[{index, description, type, class, colorant, unit, max, level, state, percent}],
 *   alerts[{severity, severity_code, group, group_index, code, description, location, training,
 *           index, time_ticks, first_seen}],
 *   trays[{index, name, description, media, unit, max, level, state, percent, status,
 *          status_text}],
 *   covers[{index, description, status, state, open}]
 * Times are "YYYY-MM-DDTHH:MM:SSZ" (UTC) or null; "state" is supply_state_name() (for a tray:
 * of tray_state_of(), for a cover cover_status_name()); "back_from" is null unless the counter
 * went backwards (see store_device_save); "percent" is
 * null when there is no honest percentage; status names come from device_status_name(),
 * printer_status_name() and printer_error_name(), severity from alert_severity_name(). */
json_t *device_json(const struct device *d, int low_percent);

#endif
