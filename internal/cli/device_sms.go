package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strings"

	"github.com/acmock/acmock/activeconnect"
)

var deviceSMSCommand = &command{
	name:    "device sms",
	args:    "USER --phone NUMBER",
	summary: "text a registration link for a user to a phone",
	details: `Texts a registration link for the user to a phone number in E.164 form (+ and 8 to 15
digits). acmock keeps the message in its outbox instead of sending it. A user who already has a
phone is refused: report it lost first with acclient device lost.`,
	examples: []string{
		`acclient device sms carol --phone +15555550100`,
		`acclient device sms carol --phone +15555550100 --message "Register for My App" --display-name carol@myapp`,
	},
	new: func() runner { return &deviceSMSOptions{} },
}

// deviceSMSOptions are the options of "device sms".
type deviceSMSOptions struct {
	user string
	sms  activeconnect.RegistrationSMS
}

func (o *deviceSMSOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.sms.PhoneNumber, "phone", "", "the phone number in E.164 form, such as +15555550100 (required)")
	fs.StringVar(&o.sms.DisplayName, "display-name", "", "how the mobile app describes the user")
	fs.StringVar(&o.sms.Message, "message", "", "text before the link (default: the service's greeting)")
}

func (o *deviceSMSOptions) args(pos []string) error {
	if err := oneUser("device sms", pos, &o.user); err != nil {
		return err
	}
	if o.sms.PhoneNumber == "" {
		return usageErrorf("device sms: --phone is required, as in: acclient device sms %s --phone +15555550100", show(o.user))
	}
	return nil
}

func (o *deviceSMSOptions) run(ctx context.Context, env *Env, g *globalOptions) error {
	m, err := g.management()
	if err != nil {
		return err
	}
	if err := m.SendRegistrationSMS(ctx, o.user, o.sms); err != nil {
		var apiErr *activeconnect.APIError
		if errors.As(err, &apiErr) && apiErr.Field == "phone_number" && apiErr.StatusCode == http.StatusBadRequest {
			err = &phoneError{number: o.sms.PhoneNumber, apiMessage: apiErr.Message, err: err}
		}
		return forUser(o.user, err)
	}
	if g.json() {
		return writeJSON(env.Stdout, map[string]any{"user": o.user, "phone_number": o.sms.PhoneNumber, "sent": true})
	}
	_, err = fmt.Fprintf(env.Stdout, "texted a registration link for %s to %s\n", show(o.user), o.sms.PhoneNumber)
	return err
}

// phoneError is the service refusing the phone number. The service's message may be a bare
// pattern ("doesn't match the regular expression ..."), so the message names the number instead;
// the hint says what form the service takes.
type phoneError struct {
	number     string
	apiMessage string
	err        error
}

func (e *phoneError) Error() string {
	return strings.Replace(e.err.Error(), e.apiMessage, fmt.Sprintf("the service does not take %q as a phone number", e.number), 1)
}

func (e *phoneError) Unwrap() error { return e.err }
