/** The running gateway's state, rewritten every 2 s in its data folder (hfmail status, queue ETAs, the console). */
export const STATUS_FILE = 'status.json';
