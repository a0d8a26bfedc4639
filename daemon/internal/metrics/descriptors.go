package metrics

import (
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// BaseLabelKeys label every metric, in this order, before its own keys.
var BaseLabelKeys = []string{"container", "id", "image", "name", "namespace", "pod"}

const (
	counter = runtimeapi.MetricType_COUNTER
	gauge   = runtimeapi.MetricType_GAUGE
)

// descriptor is one metric: its name, help, type and own label keys.
type descriptor struct {
	name, help string
	typ        runtimeapi.MetricType
	keys       []string
}

var (
	netKeys     = []string{"interface"}
	deviceKeys  = []string{"device"}
	failureKeys = []string{"failure_type", "scope"}
)

// descriptors are the metrics runletd reports, as cAdvisor names them.
var descriptors = []descriptor{
	{"container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", counter, []string{"cpu"}},
	{"container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.", counter, nil},
	{"container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.", counter, nil},
	{"container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", counter, nil},
	{"container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", counter, nil},
	{"container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled.", counter, nil},

	{"container_memory_cache", "Number of bytes of page cache memory.", gauge, nil},
	{"container_memory_rss", "Size of RSS in bytes.", gauge, nil},
	{"container_memory_mapped_file", "Size of memory mapped files in bytes.", gauge, nil},
	{"container_memory_swap", "Container swap usage in bytes.", gauge, nil},
	{"container_memory_kernel_usage", "Size of kernel memory allocated in bytes.", gauge, nil},
	{"container_memory_failcnt", "Number of memory usage hits limits", counter, nil},
	{"container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", gauge, nil},
	{"container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes", gauge, nil},
	{"container_memory_working_set_bytes", "Current working set in bytes.", gauge, nil},
	{"container_memory_failures_total", "Cumulative count of memory allocation failures.", counter, failureKeys},
	{"container_oom_events_total", "Count of out of memory events observed for the container", counter, nil},

	{"container_hugetlb_usage_bytes", "Current hugepage usage", gauge, []string{"pagesize"}},
	{"container_hugetlb_max_usage_bytes", "Maximum hugepage usages recorded", gauge, []string{"pagesize"}},

	{"container_blkio_device_usage_total", "Blkio device bytes usage", counter, []string{"device", "major", "minor", "operation"}},
	{"container_fs_reads_bytes_total", "Cumulative count of bytes read", counter, deviceKeys},
	{"container_fs_reads_total", "Cumulative count of reads completed", counter, deviceKeys},
	{"container_fs_writes_bytes_total", "Cumulative count of bytes written", counter, deviceKeys},
	{"container_fs_writes_total", "Cumulative count of writes completed", counter, deviceKeys},
	{"container_fs_inodes_free", "Number of available Inodes", gauge, deviceKeys},
	{"container_fs_inodes_total", "Number of Inodes", gauge, deviceKeys},
	{"container_fs_limit_bytes", "Number of bytes that can be consumed by the container on this filesystem.", gauge, deviceKeys},
	{"container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", gauge, deviceKeys},

	{"container_network_receive_bytes_total", "Cumulative count of bytes received", counter, netKeys},
	{"container_network_receive_packets_total", "Cumulative count of packets received", counter, netKeys},
	{"container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving", counter, netKeys},
	{"container_network_receive_errors_total", "Cumulative count of errors encountered while receiving", counter, netKeys},
	{"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", counter, netKeys},
	{"container_network_transmit_packets_total", "Cumulative count of packets transmitted", counter, netKeys},
	{"container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting", counter, netKeys},
	{"container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting", counter, netKeys},

	{"container_processes", "Number of processes running inside the container.", gauge, nil},
	{"container_threads", "Number of threads running inside the container", gauge, nil},
	{"container_threads_max", "Maximum number of threads allowed inside the container, infinity if value is zero", gauge, nil},
	{"container_file_descriptors", "Number of open file descriptors for the container.", gauge, nil},
	{"container_sockets", "Number of open sockets for the container.", gauge, nil},
	{"container_ulimits_soft", "Soft ulimit values for the container root process. Unlimited if -1, except priority and nice", gauge, []string{"ulimit"}},

	{"container_pressure_cpu_waiting_seconds_total", "Total time duration tasks in the container have waited due to CPU congestion.", counter, nil},
	{"container_pressure_cpu_stalled_seconds_total", "Total time duration no tasks in the container could make progress due to CPU congestion.", counter, nil},
	{"container_pressure_memory_waiting_seconds_total", "Total time duration tasks in the container have waited due to memory congestion.", counter, nil},
	{"container_pressure_memory_stalled_seconds_total", "Total time duration no tasks in the container could make progress due to memory congestion.", counter, nil},
	{"container_pressure_io_waiting_seconds_total", "Total time duration tasks in the container have waited due to IO congestion.", counter, nil},
	{"container_pressure_io_stalled_seconds_total", "Total time duration no tasks in the container could make progress due to IO congestion.", counter, nil},

	{"container_spec_cpu_period", "CPU period of the container.", gauge, nil},
	{"container_spec_cpu_quota", "CPU quota of the container.", gauge, nil},
	{"container_spec_cpu_shares", "CPU share of the container.", gauge, nil},
	{"container_spec_memory_limit_bytes", "Memory limit for the container.", gauge, nil},
	{"container_spec_memory_reservation_limit_bytes", "Memory reservation limit for the container.", gauge, nil},
	{"container_spec_memory_swap_limit_bytes", "Memory swap limit for the container.", gauge, nil},

	{"container_last_seen", "Last time a container was seen by the exporter", gauge, nil},
	{"container_start_time_seconds", "Start time of the container since unix epoch in seconds.", gauge, nil},
}

// byName indexes descriptors.
var byName = func() map[string]*descriptor {
	m := make(map[string]*descriptor, len(descriptors))
	for i := range descriptors {
		m[descriptors[i].name] = &descriptors[i]
	}
	return m
}()

// Descriptors answers ListMetricDescriptors: every metric runletd may
// report, with its full label keys.
func Descriptors() []*runtimeapi.MetricDescriptor {
	out := make([]*runtimeapi.MetricDescriptor, 0, len(descriptors))
	for _, d := range descriptors {
		keys := append(append([]string{}, BaseLabelKeys...), d.keys...)
		out = append(out, &runtimeapi.MetricDescriptor{Name: d.name, Help: d.help, LabelKeys: keys})
	}
	return out
}
