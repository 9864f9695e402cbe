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

func (c control) LosePhone(ctx context.Context, req acctl.LosePhoneRequestObject) (acctl.LosePhoneResponseObject, error) {
	link, err := c.e.store.LoseDevice(req.ApplicationId, req.UserId, c.e.clock.Now())
	switch {
	case errors.Is(err, store.ErrApplicationNotFound):
		return acctl.LosePhone404JSONResponse{ErrorJSONResponse: acctl.ErrorJSONResponse(ctlError("unknown_application", "application_id", "no application %s", req.ApplicationId))}, nil
	case errors.Is(err, store.ErrUserNotFound):
		return acctl.LosePhone404JSONResponse{ErrorJSONResponse: acctl.ErrorJSONResponse(ctlError("unknown_user", "user_id", "application %s has no user %q", req.ApplicationId, req.UserId))}, nil
	case err != nil:
		return nil, err
	}
	return acctl.LosePhone200JSONResponse(linkState(ctx, c.e, link)), nil
}

func linkState(ctx context.Context, e *Emulator, l store.Link) acctl.LinkState {
	ls := acctl.LinkState{Url: e.linkURL(ctx, l.Code), Code: l.Code, CreatedAt: l.CreatedAt}
	if l.DisplayName != "" {
		ls.DisplayName = &l.DisplayName
	}
	if !l.UsedAt.IsZero() {
		ls.UsedAt = &l.UsedAt
	}
	return ls
}

func (c control) ListApplications(context.Context, acctl.ListApplicationsRequestObject) (acctl.ListApplicationsResponseObject, error) {
	out := acctl.ListApplications200JSONResponse{Applications: []acctl.ApplicationRef{}}
	for _, app := range c.e.store.Applications() {
		out.Applications = append(out.Applications, acctl.ApplicationRef{Id: app.ID})
	}
	return out, nil
}
