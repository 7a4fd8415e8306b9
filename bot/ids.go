package bot

import "errors"

// CreateUnderNewID stores something new under an id from newID: create
// stores it under the id it is given, and when it reports the id taken
// (errors.Is(err, taken)) another id is tried, six in all. It returns the
// id it stored under, or create's last error.
func CreateUnderNewID(newID func() string, taken error, create func(id string) error) (string, error) {
	var (
		id  string
		err error
	)
	for attempt := 0; attempt < 6; attempt++ {
		id = newID()
		if err = create(id); !errors.Is(err, taken) {
			break
		}
	}
	return id, err
}
