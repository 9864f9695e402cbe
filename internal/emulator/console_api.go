package emulator

import (
	"context"
	"errors"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/store"
)

// The control operations below were added for the console; like the rest of the control API they
// serve the CLI and tests as well.

func (c control) GetApplicationCredentials(_ context.Context, req acctl.GetApplicationCredentialsRequestObject) (acctl.GetApplicationCredentialsResponseObject, error) {
	app, err := c.e.store.Application(req.ApplicationId)
	switch {
	case errors.Is(err, store.ErrApplicationNotFound):
		return acctl.GetApplicationCredentials404JSONResponse{ErrorJSONResponse: acctl.ErrorJSONResponse(ctlError("unknown_application", "application_id", "no application %s", req.ApplicationId))}, nil
	case err != nil:
		return nil, err
	}
	return acctl.GetApplicationCredentials200JSONResponse{Id: app.ID, Secret: app.Secret}, nil
}
