/* A background node's log file (stdout.log, as Ockam names it), kept bounded as Ockam keeps its
 * node logs:
 *  - rotation by size: once stdout.log would pass OCKAM_LOG_MAX_SIZE_MB (default 100, decimals
 *    allowed), it becomes stdout.log.1 (stdout.log.1 becomes stdout.log.2, ...) and a new
 *    stdout.log starts; at most OCKAM_LOG_MAX_FILES files are kept (default 60, stdout.log
 *    included);
 *  - repeats collapsed: the lines of one log statement within OCKAM_LOG_REPEAT_WINDOW_S (default
 *    10, 0 = off) become the first one and "... and N more like this in the last 10 s"
 *    (ockam_log_set_repeat_window).
 * The node's stdout points at the current stdout.log (the spawner opened it); a rotation moves
 * it to the new file, so everything written there is bounded too (checked at each library log
 * line). Its stderr stays on stderr.log: only what the process prints outside the log (a
 * sanitizer or crash report) goes there. Process-wide; called from the node's main thread. */
#ifndef OCKAM_CLI_LOGFILE_H
#define OCKAM_CLI_LOGFILE_H

/* Install the handler for the file at path (stdout already writes to it). */
void logfile_start(const char *path);
/* Write the pending "... and N more" lines (before the process exits). */
void logfile_stop(void);

#endif
