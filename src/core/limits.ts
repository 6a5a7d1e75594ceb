/**
 * Size limits every layer agrees on by default. The gateway's `limits.maxMessageSize` defaults to this, and
 * passes its configured value to the codec and the link; their own defaults (tests, the simulator, tools) are
 * derived from the same numbers, so no layer takes more or less than the others by default.
 */

/** The largest message (content) a station takes: 10 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** What a bundle may carry above its content: the envelope and the compression format's overhead. */
export const BUNDLE_SLACK_BYTES = 256 * 1024;

/** The largest bundle a link takes from its peer: the largest message plus the slack. */
export const DEFAULT_MAX_BUNDLE_BYTES = DEFAULT_MAX_MESSAGE_BYTES + BUNDLE_SLACK_BYTES;
