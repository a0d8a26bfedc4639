package oci

// Event topics, as containerd names them.
const (
	TopicTaskCreate       = "/tasks/create"
	TopicTaskStart        = "/tasks/start"
	TopicTaskExit         = "/tasks/exit"
	TopicTaskDelete       = "/tasks/delete"
	TopicTaskExecAdded    = "/tasks/exec-added"
	TopicTaskExecStarted  = "/tasks/exec-started"
	TopicTaskPaused       = "/tasks/paused"
	TopicTaskResumed      = "/tasks/resumed"
	TopicTaskOOM          = "/tasks/oom"
	TopicTaskCheckpointed = "/tasks/checkpointed"
)
