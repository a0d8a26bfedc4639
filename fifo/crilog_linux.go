package fifo

// logFileMode is the permission of a CRI log file the writer creates.
const logFileMode = 0o640
