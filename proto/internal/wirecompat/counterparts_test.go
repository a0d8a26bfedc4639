package wirecompat

import (
	cdevents "github.com/containerd/containerd/api/events"
	cdbootstrap "github.com/containerd/containerd/api/runtime/bootstrap/v1"
	cdtaskv2 "github.com/containerd/containerd/api/runtime/task/v2"
	cdtaskv3 "github.com/containerd/containerd/api/runtime/task/v3"
	cdttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	cdtypes "github.com/containerd/containerd/api/types"
	cdoptions "github.com/containerd/containerd/api/types/runc/options"
	cdtasktypes "github.com/containerd/containerd/api/types/task"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	rbootstrap "github.com/runlet/runlet/proto/bootstrap/v1"
	revents "github.com/runlet/runlet/proto/events"
	rttrpcevents "github.com/runlet/runlet/proto/events/ttrpc/v1"
	roptions "github.com/runlet/runlet/proto/runc/options"
	rtaskv2 "github.com/runlet/runlet/proto/task/v2"
	rtaskv3 "github.com/runlet/runlet/proto/task/v3"
	rtypes "github.com/runlet/runlet/proto/types"
	rtasktypes "github.com/runlet/runlet/proto/types/task"
)

// ourFiles are all of runlet's .proto files; TestEveryProtoFileIsChecked
// fails when one on disk is missing here.
var ourFiles = []protoreflect.FileDescriptor{
	rtypes.File_types_mount_proto,
	rtypes.File_types_event_proto,
	rtypes.File_types_introspection_proto,
	rtasktypes.File_types_task_task_proto,
	rtaskv2.File_task_v2_shim_proto,
	rtaskv3.File_task_v3_shim_proto,
	revents.File_events_task_proto,
	rttrpcevents.File_events_ttrpc_v1_events_proto,
	rbootstrap.File_bootstrap_v1_bootstrap_proto,
	roptions.File_runc_options_oci_proto,
}

// counterpart pairs one of our messages with containerd's Go types that must
// be wire-identical to it.
type counterpart struct {
	ours   proto.Message
	theirs []proto.Message
}

// counterparts must name every message of ourFiles
// (TestEveryMessageHasAContainerdCounterpart).
var counterparts = []counterpart{
	{&rtypes.Mount{}, of(&cdtypes.Mount{})},
	{&rtypes.Envelope{}, of(&cdtypes.Envelope{})},
	{&rtypes.RuntimeRequest{}, of(&cdtypes.RuntimeRequest{})},
	{&rtypes.RuntimeVersion{}, of(&cdtypes.RuntimeVersion{})},
	{&rtypes.RuntimeInfo{}, of(&cdtypes.RuntimeInfo{})},

	{&rtasktypes.Process{}, of(&cdtasktypes.Process{})},
	{&rtasktypes.ProcessInfo{}, of(&cdtasktypes.ProcessInfo{})},

	// Our task v3 service reuses the v2 messages, so each must also match
	// containerd's v3 copy.
	{&rtaskv2.CreateTaskRequest{}, of(&cdtaskv2.CreateTaskRequest{}, &cdtaskv3.CreateTaskRequest{})},
	{&rtaskv2.CreateTaskResponse{}, of(&cdtaskv2.CreateTaskResponse{}, &cdtaskv3.CreateTaskResponse{})},
	{&rtaskv2.DeleteRequest{}, of(&cdtaskv2.DeleteRequest{}, &cdtaskv3.DeleteRequest{})},
	{&rtaskv2.DeleteResponse{}, of(&cdtaskv2.DeleteResponse{}, &cdtaskv3.DeleteResponse{})},
	{&rtaskv2.ExecProcessRequest{}, of(&cdtaskv2.ExecProcessRequest{}, &cdtaskv3.ExecProcessRequest{})},
	{&rtaskv2.ExecProcessResponse{}, of(&cdtaskv2.ExecProcessResponse{}, &cdtaskv3.ExecProcessResponse{})},
	{&rtaskv2.ResizePtyRequest{}, of(&cdtaskv2.ResizePtyRequest{}, &cdtaskv3.ResizePtyRequest{})},
	{&rtaskv2.StateRequest{}, of(&cdtaskv2.StateRequest{}, &cdtaskv3.StateRequest{})},
	{&rtaskv2.StateResponse{}, of(&cdtaskv2.StateResponse{}, &cdtaskv3.StateResponse{})},
	{&rtaskv2.KillRequest{}, of(&cdtaskv2.KillRequest{}, &cdtaskv3.KillRequest{})},
	{&rtaskv2.CloseIORequest{}, of(&cdtaskv2.CloseIORequest{}, &cdtaskv3.CloseIORequest{})},
	{&rtaskv2.PidsRequest{}, of(&cdtaskv2.PidsRequest{}, &cdtaskv3.PidsRequest{})},
	{&rtaskv2.PidsResponse{}, of(&cdtaskv2.PidsResponse{}, &cdtaskv3.PidsResponse{})},
	{&rtaskv2.CheckpointTaskRequest{}, of(&cdtaskv2.CheckpointTaskRequest{}, &cdtaskv3.CheckpointTaskRequest{})},
	{&rtaskv2.UpdateTaskRequest{}, of(&cdtaskv2.UpdateTaskRequest{}, &cdtaskv3.UpdateTaskRequest{})},
	{&rtaskv2.StartRequest{}, of(&cdtaskv2.StartRequest{}, &cdtaskv3.StartRequest{})},
	{&rtaskv2.StartResponse{}, of(&cdtaskv2.StartResponse{}, &cdtaskv3.StartResponse{})},
	{&rtaskv2.WaitRequest{}, of(&cdtaskv2.WaitRequest{}, &cdtaskv3.WaitRequest{})},
	{&rtaskv2.WaitResponse{}, of(&cdtaskv2.WaitResponse{}, &cdtaskv3.WaitResponse{})},
	{&rtaskv2.StatsRequest{}, of(&cdtaskv2.StatsRequest{}, &cdtaskv3.StatsRequest{})},
	{&rtaskv2.StatsResponse{}, of(&cdtaskv2.StatsResponse{}, &cdtaskv3.StatsResponse{})},
	{&rtaskv2.ConnectRequest{}, of(&cdtaskv2.ConnectRequest{}, &cdtaskv3.ConnectRequest{})},
	{&rtaskv2.ConnectResponse{}, of(&cdtaskv2.ConnectResponse{}, &cdtaskv3.ConnectResponse{})},
	{&rtaskv2.ShutdownRequest{}, of(&cdtaskv2.ShutdownRequest{}, &cdtaskv3.ShutdownRequest{})},
	{&rtaskv2.PauseRequest{}, of(&cdtaskv2.PauseRequest{}, &cdtaskv3.PauseRequest{})},
	{&rtaskv2.ResumeRequest{}, of(&cdtaskv2.ResumeRequest{}, &cdtaskv3.ResumeRequest{})},

	{&revents.TaskCreate{}, of(&cdevents.TaskCreate{})},
	{&revents.TaskStart{}, of(&cdevents.TaskStart{})},
	{&revents.TaskDelete{}, of(&cdevents.TaskDelete{})},
	{&revents.TaskIO{}, of(&cdevents.TaskIO{})},
	{&revents.TaskExit{}, of(&cdevents.TaskExit{})},
	{&revents.TaskOOM{}, of(&cdevents.TaskOOM{})},
	{&revents.TaskExecAdded{}, of(&cdevents.TaskExecAdded{})},
	{&revents.TaskExecStarted{}, of(&cdevents.TaskExecStarted{})},
	{&revents.TaskPaused{}, of(&cdevents.TaskPaused{})},
	{&revents.TaskResumed{}, of(&cdevents.TaskResumed{})},
	{&revents.TaskCheckpointed{}, of(&cdevents.TaskCheckpointed{})},

	{&rttrpcevents.ForwardRequest{}, of(&cdttrpcevents.ForwardRequest{})},

	{&rbootstrap.BootstrapParams{}, of(&cdbootstrap.BootstrapParams{})},
	{&rbootstrap.BootstrapResult{}, of(&cdbootstrap.BootstrapResult{})},
	{&rbootstrap.Extension{}, of(&cdbootstrap.Extension{})},

	{&roptions.Options{}, of(&cdoptions.Options{})},
	{&roptions.CheckpointOptions{}, of(&cdoptions.CheckpointOptions{})},
	{&roptions.ProcessDetails{}, of(&cdoptions.ProcessDetails{})},
}

// enumCounterparts must name every enum of ourFiles.
var enumCounterparts = map[protoreflect.FullName]protoreflect.EnumDescriptor{
	"containerd.v1.types.Status":                 cdtasktypes.Status(0).Descriptor(),
	"containerd.runtime.bootstrap.v1.LogLevel":   cdbootstrap.LogLevel(0).Descriptor(),
	"containerd.runtime.bootstrap.v1.Capability": cdbootstrap.Capability(0).Descriptor(),
}

func of(theirs ...proto.Message) []proto.Message { return theirs }
