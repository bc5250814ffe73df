/** Every status Pungi announces for a compose; [amqp].statuses chooses which of them start a run. */
export const PUNGI_STATUSES = ['STARTED', 'FINISHED', 'FINISHED_INCOMPLETE', 'DOOMED', 'TERMINATED'] as const;
