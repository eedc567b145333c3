import { useState } from 'preact/hooks';
import { api, call } from '../../api/client';
import type { components } from '../../api/schema';
import { useFormat } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorState } from '../../components/ErrorState';
import { FormError } from '../../components/FormError';
import { LoadingState } from '../../components/LoadingState';
import { useToast } from '../../components/Toast';
import type { ApiState } from '../../components/useApi';
import { useT } from '../../i18n';
import { common } from '../../i18n/messages/common';
import { products as m } from '../../i18n/messages/products';

type Category = components['schemas']['CategoryView'];

/** Categories (admin): create, rename, delete. The API refuses deleting one in use. */
export function CategoriesPanel(props: { categories: ApiState<Category[]> }) {
  const t = useT(m);
  const f = useFormat();
  const toast = useToast();
  const cats = props.categories;
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [addError, setAddError] = useState<unknown>(null);
  const [adding, setAdding] = useState(false);
  const [renaming, setRenaming] = useState<Category | null>(null);
  const [deleting, setDeleting] = useState<Category | null>(null);

  async function add(e: Event) {
    e.preventDefault();
    if (!name.trim() || adding) return;
    setAdding(true);
    setAddError(null);
    try {
      const c = await call(api.POST('/api/categories', { body: { name: name.trim(), description: description.trim() || null } }));
      toast.show(t('categoryCreated', { name: c.name }), 'success');
      setName('');
      setDescription('');
      cats.reload();
    } catch (err) {
      setAddError(err);
    } finally {
      setAdding(false);
    }
  }

  return (
    <div class="stack">
      <section class="card" aria-labelledby="newcat-h">
        <h2 id="newcat-h">{t('newCategory')}</h2>
        <form class="inline-form" onSubmit={add}>
          <label>
            {t('categoryName')}
            <input name="category-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            {t('categoryDescription')}
            <input name="category-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={adding || !name.trim()} aria-busy={adding ? 'true' : undefined}>
            {t('addCategory')}
          </button>
        </form>
        <FormError error={addError} />
      </section>
      <section class="card" aria-labelledby="cats-h">
        <h2 id="cats-h">{t('tabCategories')}</h2>
        <p class="muted">{t('categoriesLead')}</p>
        {cats.error ? (
          <ErrorState error={cats.error} onRetry={cats.reload} />
        ) : !cats.data ? (
          <LoadingState />
        ) : cats.data.length === 0 ? (
          <EmptyState title={t('categoriesEmpty')} />
        ) : (
          <div class="table-wrap">
            <table class="data-table">
              <caption class="visually-hidden">{t('categoriesCaption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('categoryName')}</th>
                  <th scope="col">{t('colDescription')}</th>
                  <th scope="col" class="num">
                    {t('colProducts')}
                  </th>
                  <th scope="col">
                    <span class="visually-hidden">{t('colActions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {cats.data.map((c) => (
                  <tr key={c.category_id}>
                    <td>
                      <a href={`/products?category=${encodeURIComponent(c.name)}`}>{c.name}</a>
                    </td>
                    <td>{c.description ?? ''}</td>
                    <td class="num">{f.number(c.product_count)}</td>
                    <td class="row-actions">
                      <button type="button" class="secondary outline small" onClick={() => setRenaming(c)} aria-label={`${t('rename')}: ${c.name}`}>
                        {t('rename')}
                      </button>
                      <button type="button" class="secondary outline small danger-text" onClick={() => setDeleting(c)} aria-label={`${t('remove')}: ${c.name}`}>
                        {t('remove')}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <RenameDialog category={renaming} onClose={() => setRenaming(null)} onSaved={() => (setRenaming(null), cats.reload())} />
      <DeleteDialog category={deleting} onClose={() => setDeleting(null)} onDeleted={() => (setDeleting(null), cats.reload())} />
    </div>
  );
}

function RenameDialog(props: { category: Category | null; onClose: () => void; onSaved: () => void }) {
  const t = useT(m);
  const tc = useT(common);
  const toast = useToast();
  const c = props.category;
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [for_, setFor] = useState<number | null>(null);
  if (c && for_ !== c.category_id) {
    setFor(c.category_id);
    setName(c.name);
    setDescription(c.description ?? '');
    setError(null);
  }
  if (!c && for_ !== null) setFor(null);

  async function save(e: Event) {
    e.preventDefault();
    if (!c || busy) return;
    setBusy(true);
    setError(null);
    try {
      await call(
        api.PUT('/api/categories/{category_id}', {
          params: { path: { category_id: c.category_id } },
          body: { name: name.trim(), description: description.trim() || null },
        }),
      );
      toast.show(t('categorySaved'), 'success');
      props.onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={c !== null}
      busy={busy}
      title={t('renameTitle')}
      onClose={props.onClose}
      footer={
        <>
          <button type="button" class="secondary" onClick={props.onClose} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="submit" form="rename-form" disabled={busy || !name.trim()} aria-busy={busy ? 'true' : undefined}>
            {tc('save')}
          </button>
        </>
      }
    >
      <form id="rename-form" onSubmit={save}>
        <label>
          {t('categoryName')}
          <input name="rename-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          {t('categoryDescription')}
          <input name="rename-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <FormError error={error} />
      </form>
    </Dialog>
  );
}

function DeleteDialog(props: { category: Category | null; onClose: () => void; onDeleted: () => void }) {
  const t = useT(m);
  const tc = useT(common);
  const toast = useToast();
  const c = props.category;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const close = () => (setError(null), props.onClose());

  async function remove() {
    if (!c || busy) return;
    setBusy(true);
    setError(null);
    try {
      await call(api.DELETE('/api/categories/{category_id}', { params: { path: { category_id: c.category_id } } }));
      toast.show(t('categoryDeleted', { name: c.name }), 'success');
      props.onDeleted();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={c !== null}
      busy={busy}
      title={c ? t('deleteCategoryTitle', { name: c.name }) : ''}
      onClose={close}
      footer={
        <>
          <button type="button" class="secondary" onClick={close} disabled={busy}>
            {tc('cancel')}
          </button>
          <button type="button" class="danger" onClick={() => void remove()} disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {t('remove')}
          </button>
        </>
      }
    >
      <p>{t('deleteCategoryBody')}</p>
      <FormError error={error} />
    </Dialog>
  );
}
