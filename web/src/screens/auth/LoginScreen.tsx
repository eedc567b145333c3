import { useT } from '../../i18n';
import { auth } from '../../i18n/messages/auth';
import { AuthLayout } from './AuthLayout';
import { LoginForm } from './LoginForm';

export default function LoginScreen() {
  const t = useT(auth);
  return (
    <AuthLayout title={t('loginTitle')} lead={t('loginLead')}>
      <LoginForm />
    </AuthLayout>
  );
}
