/* SPDX-License-Identifier: GPL-2.0-only */
/* The cgroup path classifier against real-world layouts of each runtime and
 * driver (nested, truncated and malformed ones included), and kubelet log
 * link names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cgroups/identity.h"

#define ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901"
/* systemd spells the dashes of a pod UID as underscores. */
#define UID_	   "1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901"
#define STATIC_UID "0123456789abcdef0123456789abcdef"

static const struct {
	const char *path;
	const char *container_id;
	const char *pod_uid;
} cases[] = {
    /* Docker */
    {"/system.slice/docker-" ID ".scope", ID, ""},
    {"/docker/" ID, ID, ""},
    {"/docker/" ID "/docker/" ID2, ID2, ""}, /* docker in docker: the inner one */
    /* containerd and CRI-O under Kubernetes, systemd driver */
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
     ".slice/cri-containerd-" ID ".scope",
     ID, UID},
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" ID
     ".scope",
     ID, UID},
    {"/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope", ID, UID}, /* guaranteed */
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice", "", UID},
    /* kind: the kubelet's cgroup root is /kubelet (systemd driver) */
    {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
     "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID ".scope",
     ID, UID},
    {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
     "kubelet-kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID ".scope",
     ID, UID},
    {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UID_ ".slice/cri-containerd-" ID
     ".scope",
     ID, UID}, /* guaranteed */
    {"/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
     "kubelet-kubepods-burstable-pod" UID_ ".slice",
     "", UID},
    /* a kind node seen from its host: the node's container, then the pod's */
    {"/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/"
     "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_
     ".slice/cri-containerd-" ID ".scope",
     ID, UID},
    /* kind with the cgroupfs driver */
    {"/kubelet/kubepods/besteffort/pod" UID "/" ID, ID, UID},
    {"/kubelet/kubepods/pod" UID "/" ID, ID, UID},
    /* containerd (systemd driver) and docker (cri-dockerd, cgroupfs) */
    {"/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope", ID, UID},
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/docker-" ID
     ".scope",
     ID, UID},
    {"/kubepods/burstable/pod" UID "/docker-" ID ".scope", ID, UID},
    /* runtime helpers are not containers */
    {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
     ".slice/crio-conmon-" ID ".scope",
     "", UID},
    {"/machine.slice/libpod-conmon-" ID ".scope", "", ""},
    /* cgroupfs driver */
    {"/kubepods/burstable/pod" UID "/" ID, ID, UID},
    {"/kubepods/pod" UID "/" ID, ID, UID}, /* guaranteed */
    {"/kubepods/besteffort/pod" UID "/crio-" ID, ID, UID},
    {"/kubepods/burstable/pod" STATIC_UID "/" ID, ID, STATIC_UID}, /* static pod */
    {"/kubepods/burstable/pod" UID, "", UID},
    /* Podman */
    {"/machine.slice/libpod-" ID ".scope", ID, ""},
    {"/machine.slice/libpod-" ID ".scope/container", ID, ""}, /* its own sub-cgroup */
    {"/libpod_parent/libpod-" ID, ID, ""},
    {"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", ID, ""},
    /* not containers */
    {"/", "", ""},
    {"", "", ""},
    {"/user.slice/user-1000.slice/session-2.scope", "", ""},
    {"/system.slice/nginx.service", "", ""},
    {"/system.slice/podman.service", "", ""},
    {"/kubepods.slice/kubepods-burstable.slice", "", ""},
    {"/pod" UID, "", ""},				    /* not below kubepods */
    {"/kubelet.slice/kubepodsx-pod" UID_ ".slice", "", ""}, /* not the word */
    {"/kubelet.slice/xkubepods-pod" UID_ ".slice", "", ""},
    {"/notkubepods/pod" UID, "", ""},
    /* truncated and malformed */
    {"/system.slice/docker-0123456789ab.scope", "", ""},
    {"/system.slice/docker-" ID "0.scope", "", ""},
    {"/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
     ".scope",
     "", ""},
    {"/docker/" ID ".scope.extra", "", ""},
    {"/kubepods/burstable/pod1234/" ID, ID, ""},
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podzz.slice", "", ""},
    {"//docker//" ID "//", ID, ""},
    {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
     ".slice/cri-containerd-" ID ".scope/..",
     ID, UID},
};

static void test_classify_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgroup_identity id;

		identity_classify(cases[i].path, &id);
		if (strcmp(id.container_id, cases[i].container_id) ||
		    strcmp(id.pod_uid, cases[i].pod_uid))
			fail_msg("case %zu %s: got container '%s' pod '%s'", i, cases[i].path,
				 id.container_id, id.pod_uid);
	}
}

static void test_log_links(void **state)
{
	struct kube_names k;

	assert_int_equal(identity_parse_log_link("web-7d4b9c-x2x_default_nginx-" ID ".log", &k), 0);
	assert_string_equal(k.pod, "web-7d4b9c-x2x");
	assert_string_equal(k.namespace, "default");
	assert_string_equal(k.container, "nginx");
	assert_string_equal(k.container_id, ID);
	assert_int_equal(
	    identity_parse_log_link("coredns-5d78c9869d-abc.1_kube-system_core-dns-" ID ".log", &k),
	    0);
	assert_string_equal(k.container, "core-dns");
	assert_string_equal(k.pod, "coredns-5d78c9869d-abc.1");

	assert_int_equal(identity_parse_log_link("a_b_c_d-" ID ".log", &k), -1);
	assert_int_equal(identity_parse_log_link("a_b-" ID ".log", &k), -1);
	assert_int_equal(identity_parse_log_link("a_b_c-0123.log", &k), -1);
	assert_int_equal(identity_parse_log_link("a_b_c-" ID ".txt", &k), -1);
	assert_int_equal(identity_parse_log_link("_b_c-" ID ".log", &k), -1);
	assert_int_equal(identity_parse_log_link("a__c-" ID ".log", &k), -1);
	assert_int_equal(identity_parse_log_link("a_b_-" ID ".log", &k), -1);
	assert_int_equal(identity_parse_log_link("", &k), -1);
	assert_int_equal(identity_parse_log_link(".log", &k), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classify_table),
	    cmocka_unit_test(test_log_links),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
