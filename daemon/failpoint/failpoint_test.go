package failpoint

import "testing"

func TestStepNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Steps {
		if s == "" || seen[s] {
			t.Fatalf("step %q is empty or listed twice", s)
		}
		seen[s] = true
	}
}

func TestHitOfAnUnarmedStepReturns(t *testing.T) {
	Hit(PodReserved) // this test binary is built without the tag, or with no step armed
}
