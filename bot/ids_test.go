package bot

import (
	"errors"
	"strconv"
	"testing"
)

func TestCreateUnderNewID(t *testing.T) {
	taken := errors.New("taken")
	n := 0
	newID := func() string { n++; return "id" + strconv.Itoa(n) }
	id, err := CreateUnderNewID(newID, taken, func(id string) error {
		if id != "id3" {
			return taken
		}
		return nil
	})
	if id != "id3" || err != nil {
		t.Errorf("= %q, %v; want id3 after two taken ids", id, err)
	}
	n, tries := 0, 0
	_, err = CreateUnderNewID(newID, taken, func(string) error { tries++; return taken })
	if !errors.Is(err, taken) || tries != 6 {
		t.Errorf("always taken: %v after %d tries; want taken after 6", err, tries)
	}
	other := errors.New("store down")
	tries = 0
	if _, err := CreateUnderNewID(newID, taken, func(string) error { tries++; return other }); err != other || tries != 1 {
		t.Errorf("store down: %v after %d tries; want it at once", err, tries)
	}
}
